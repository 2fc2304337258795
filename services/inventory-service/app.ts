import { readCatalog } from '../../shared/contracts/catalog.js';
import { createLogger, type Logger } from '../../shared/logging/logger.js';
import { startParticipant, type RunningParticipant } from '../../shared/startup/start-participant.js';
import type { InventoryConfig } from './config.js';
import { seedStock } from './data-access/stock-repository.js';
import { inventoryHandlers } from './entry-points/messaging/inventory-handlers.js';

export const SERVICE = 'inventory-service';

/** Starts inventory-service: stock reservations, reserve / release. */
export async function startInventoryService(
  config: InventoryConfig,
  options: { logger?: Logger } = {},
): Promise<RunningParticipant> {
  const logger = options.logger ?? createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  return startParticipant({
    service: SERVICE,
    config,
    logger,
    // One batch at a time: a reservation reads the stock rows it then decrements (FOR UPDATE), rows
    // every order shares; two batches side by side would wait for each other's rows in any order.
    batchLanes: 1,
    prepare: async ({ pool }) => {
      const catalog = readCatalog(config.CATALOG_FILE);
      await seedStock(pool, catalog.products.map((p) => ({ sku: p.sku, stock: p.stock })));
    },
    handlers: ({ messageUnitOfWork }) => inventoryHandlers(messageUnitOfWork),
  });
}
