import { runMain } from '../../shared/startup/run-main.js';
import { startInventoryService } from './app.js';
import { loadInventoryConfig } from './config.js';

await runMain('inventory-service', async () => startInventoryService(loadInventoryConfig()));
