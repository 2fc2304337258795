import { createLogger, type Logger } from '../../shared/logging/logger.js';
import { startParticipant, type RunningParticipant } from '../../shared/startup/start-participant.js';
import type { ShippingConfig } from './config.js';
import { shippingHandlers } from './entry-points/messaging/shipping-handlers.js';

export const SERVICE = 'shipping-service';

/** Starts shipping-service: shipments, schedule / cancel. */
export async function startShippingService(
  config: ShippingConfig,
  options: { logger?: Logger } = {},
): Promise<RunningParticipant> {
  const logger = options.logger ?? createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  const policy = {
    carrier: config.CARRIER,
    unserviceableCountries: new Set(config.UNSERVICEABLE_COUNTRIES.split(',').filter(Boolean)),
  };
  return startParticipant({
    service: SERVICE,
    config,
    logger,
    handlers: ({ messageUnitOfWork }) => shippingHandlers(messageUnitOfWork, policy),
  });
}
