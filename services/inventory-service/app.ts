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
    // A reservation reads the stock rows it then decrements (FOR UPDATE), rows every order shares:
    // its batches run one at a time and their units one after another.
    readsSharedRows: true,
    prepare: async ({ pool }) => {
      const catalog = readCatalog(config.CATALOG_FILE);
      await seedStock(pool, catalog.products.map((p) => ({ sku: p.sku, stock: p.stock })));
    },
    handlers: ({ messageUnitOfWork }) => inventoryHandlers(messageUnitOfWork),
  });
}
