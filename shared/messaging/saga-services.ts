/** The services that consume saga events, each with its own queue, delay queues and dead-letter queue. */
export const SAGA_SERVICES = ['order-service', 'inventory-service', 'payment-service', 'shipping-service'] as const;
export type SagaService = (typeof SAGA_SERVICES)[number];
