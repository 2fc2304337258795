import { runMain } from '../../shared/startup/run-main.js';
import { startPaymentProvider } from './app.js';
import { loadPaymentProviderConfig } from './config.js';

await runMain('payment-provider', async () => startPaymentProvider(loadPaymentProviderConfig()));
