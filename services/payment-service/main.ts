import { runMain } from '../../shared/startup/run-main.js';
import { startPaymentService } from './app.js';
import { loadPaymentConfig } from './config.js';

await runMain('payment-service', async () => startPaymentService(loadPaymentConfig()));
