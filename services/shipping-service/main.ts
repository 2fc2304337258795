import { runMain } from '../../shared/startup/run-main.js';
import { startShippingService } from './app.js';
import { loadShippingConfig } from './config.js';

await runMain('shipping-service', async () => startShippingService(loadShippingConfig()));
