import type { TSchema } from '@sinclair/typebox';
import {
  InventoryRejected,
  InventoryReleased,
  InventoryReserved,
  OrderCancelRequested,
  OrderCreated,
  PaymentFailed,
  PaymentRefunded,
  PaymentSucceeded,
  ShippingFailed,
  ShippingScheduled,
} from './event-data.js';

/** The services that take part in the saga; each has its own queue, delay queues and dead-letter queue. */
export const SAGA_SERVICES = ['order-service', 'inventory-service', 'payment-service', 'shipping-service'] as const;
export type SagaService = (typeof SAGA_SERVICES)[number];

/**
 * What a handler does for the saga: a `step` moves the order forward; a `compensation` undoes a
 * step already done (or records that the order is being or has been undone).
 */
export type HandlerRole = 'step' | 'compensation';

export interface Subscription {
  role: HandlerRole;
  /** What the subscriber does with the event, in a few words (the docs' event table). */
  does: string;
  /**
   * The events the handler publishes when it has done its work: the one the saga expects first,
   * then the others it may publish instead. None: it publishes nothing (it records, or leaves a
   * tombstone). What the order still waits for follows from these (order-service's timeline).
   */
  emits?: readonly string[];
}

export interface EventDeclaration {
  /** The contract's version; a breaking change to `data` is a new version. */
  version: number;
  data: TSchema;
  publisher: SagaService;
  subscribers: Partial<Record<SagaService, Subscription>>;
}

/**
 * The saga, declared once: every event with its version, data schema, publisher and subscribers.
 * Everything else follows from it: each service's queue bindings, the queues a publisher declares
 * before it publishes (no event is published before its subscribers' queues exist), the type of each
 * service's handler map (a missing or extra handler does not compile), the type of every emit, and
 * the event table and diagram in docs/architecture.md and the README (checked by a test).
 */
export const saga = {
  'order.created': {
    version: 1,
    data: OrderCreated,
    publisher: 'order-service',
    subscribers: { 'inventory-service': { role: 'step', does: 'reserve every line or none', emits: ['inventory.reserved', 'inventory.rejected'] } },
  },
  'inventory.reserved': {
    version: 1,
    data: InventoryReserved,
    publisher: 'inventory-service',
    subscribers: {
      'payment-service': { role: 'step', does: 'charge the total', emits: ['payment.succeeded', 'payment.failed'] },
      'order-service': { role: 'step', does: 'mark reserved; move the stock read model' },
    },
  },
  'inventory.rejected': {
    version: 1,
    data: InventoryRejected,
    publisher: 'inventory-service',
    subscribers: { 'order-service': { role: 'compensation', does: 'cancel (out_of_stock / unknown_sku)' } },
  },
  'payment.succeeded': {
    version: 1,
    data: PaymentSucceeded,
    publisher: 'payment-service',
    subscribers: {
      'shipping-service': { role: 'step', does: 'schedule the shipment', emits: ['shipping.scheduled', 'shipping.failed'] },
      'order-service': { role: 'step', does: 'mark paid' },
    },
  },
  'payment.failed': {
    version: 1,
    data: PaymentFailed,
    publisher: 'payment-service',
    subscribers: {
      'inventory-service': { role: 'compensation', does: 'release the stock', emits: ['inventory.released'] },
      'order-service': { role: 'compensation', does: 'cancel (payment_declined)' },
    },
  },
  'shipping.scheduled': {
    version: 1,
    data: ShippingScheduled,
    publisher: 'shipping-service',
    subscribers: { 'order-service': { role: 'step', does: 'complete' } },
  },
  'shipping.failed': {
    version: 1,
    data: ShippingFailed,
    publisher: 'shipping-service',
    subscribers: {
      'payment-service': { role: 'compensation', does: 'refund the charge', emits: ['payment.refunded'] },
      'order-service': { role: 'compensation', does: 'mark compensating' },
    },
  },
  'payment.refunded': {
    version: 1,
    data: PaymentRefunded,
    publisher: 'payment-service',
    subscribers: {
      'inventory-service': { role: 'compensation', does: 'release the stock', emits: ['inventory.released'] },
      'order-service': { role: 'compensation', does: 'cancel (shipping_failed / cancelled)' },
    },
  },
  'inventory.released': {
    version: 1,
    data: InventoryReleased,
    publisher: 'inventory-service',
    subscribers: { 'order-service': { role: 'compensation', does: 'record the release; move the stock read model' } },
  },
  'order.cancel_requested': {
    version: 1,
    data: OrderCancelRequested,
    publisher: 'order-service',
    subscribers: {
      'inventory-service': { role: 'compensation', does: 'release, or leave a tombstone', emits: ['inventory.released'] },
      'payment-service': { role: 'compensation', does: 'refund, settle a charge in doubt, or leave a tombstone', emits: ['payment.refunded'] },
      'shipping-service': { role: 'compensation', does: 'cancel the shipment, or leave a tombstone' },
    },
  },
} as const satisfies Record<string, EventDeclaration>;

export type Saga = typeof saga;
