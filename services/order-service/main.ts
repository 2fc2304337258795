import { runMain } from '../../shared/startup/run-main.js';
import { startOrderService } from './app.js';
import { loadOrderConfig } from './config.js';

await runMain('order-service', async () => startOrderService(loadOrderConfig()));
