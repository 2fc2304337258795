import { Type, type Static } from '@sinclair/typebox';
import { CustomerId, PaymentSource, ShippingAddress, Sku, Uuid } from '../../../../shared/contracts/common-schemas.js';
import { CurrencyCode, DecimalAmount } from '../../../../shared/contracts/money.js';

/** Bounds that keep one order reasonable. */
export const MAX_LINES = 50;
export const MAX_QUANTITY = 100;

/** Text a person typed: no control characters (Postgres cannot even store NUL in JSON). */
const text = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength, pattern: '^[^\\u0000-\\u001F\\u007F]*$' });

/** The event contract's ShippingAddress, stricter at the door: no control characters. */
export const ShippingAddressInput = Type.Object(
  {
    name: text(100),
    line1: text(200),
    line2: Type.Optional(text(200, 0)),
    city: text(100),
    postal_code: text(20),
    country: ShippingAddress.properties.country,
  },
  { additionalProperties: false },
);

export const CreateOrderRequest = Type.Object(
  {
    items: Type.Array(
      Type.Object({ sku: Sku, quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY }) }, { additionalProperties: false }),
      { minItems: 1, maxItems: MAX_LINES },
    ),
    currency: CurrencyCode,
    payment_source: PaymentSource,
    shipping_address: ShippingAddressInput,
  },
  { additionalProperties: false, title: 'CreateOrderRequest' },
);
export type CreateOrderRequest = Static<typeof CreateOrderRequest>;

export const OrderStatusSchema = Type.Union(
  ['pending', 'reserved', 'paid', 'compensating', 'completed', 'cancelled'].map((s) => Type.Literal(s)),
);

export const OrderResponse = Type.Object({
  id: Uuid,
  customer_id: CustomerId,
  status: OrderStatusSchema,
  cancellation_reason: Type.Union([Type.String(), Type.Null()]),
  items: Type.Array(Type.Object({ sku: Sku, quantity: Type.Integer(), unit_price: DecimalAmount, line_total: DecimalAmount })),
  total: DecimalAmount,
  currency: CurrencyCode,
  shipping_address: ShippingAddress,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  history: Type.Array(
    Type.Object({
      event_id: Uuid,
      type: Type.String(),
      occurred_at: Type.String({ format: 'date-time' }),
      recorded_at: Type.String({ format: 'date-time' }),
      detail: Type.Record(Type.String(), Type.Unknown()),
    }),
  ),
});
export type OrderResponse = Static<typeof OrderResponse>;

export const OrderQuery = Type.Object({ wait: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })) }, { additionalProperties: false });

export const ListOrdersQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const OrderList = Type.Object({
  data: Type.Array(Type.Omit(OrderResponse, ['history'])),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const ProductList = Type.Object({
  data: Type.Array(
    Type.Object({
      sku: Sku,
      name: Type.String(),
      prices: Type.Record(Type.String(), DecimalAmount),
      available: Type.Integer(),
    }),
  ),
});

export const DeadLetterView = Type.Object({
  id: Uuid,
  service: Type.String(),
  queue: Type.String(),
  routing_key: Type.Union([Type.String(), Type.Null()]),
  event_type: Type.Union([Type.String(), Type.Null()]),
  message_id: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
  error: Type.Union([Type.String(), Type.Null()]),
  dead_lettered_at: Type.String({ format: 'date-time' }),
  replay_count: Type.Integer(),
  last_replayed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  body: Type.Union([Type.String(), Type.Null()]),
  body_base64: Type.Union([Type.String(), Type.Null()]),
});

export const DeadLetterList = Type.Object({ data: Type.Array(DeadLetterView) });

export const DeadLettersQuery = Type.Object(
  {
    service: Type.Optional(Type.String({ maxLength: 100 })),
    event_type: Type.Optional(Type.String({ maxLength: 100 })),
    reason: Type.Optional(Type.String({ maxLength: 100 })),
    waiting: Type.Optional(Type.Literal('true')),
    older_than_seconds: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  },
  { additionalProperties: false },
);

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const JobStateSchema = Type.Union(['created', 'retry', 'active', 'completed', 'cancelled', 'failed'].map((s) => Type.Literal(s)));

export const JobQueueStats = Type.Object({
  name: Type.String({ description: '`<service>.<job>`' }),
  cron: Type.Union([Type.String(), Type.Null()], { description: 'schedule (UTC) of a recurring job; null: on demand only' }),
  pending: Type.Integer({ description: 'waiting to run (new, or waiting for its next attempt)' }),
  active: Type.Integer(),
  completed: Type.Integer({ description: 'in the last week' }),
  failed: Type.Integer({ description: 'retries spent; kept with their error, retryable' }),
  cancelled: Type.Integer(),
  last_completed_at: NullableTimestamp,
});
export const JobQueueList = Type.Object({ data: Type.Array(JobQueueStats) });

export const JobView = Type.Object({
  id: Uuid,
  name: Type.String(),
  state: JobStateSchema,
  priority: Type.Integer(),
  retry_count: Type.Integer({ description: 'attempts made after the first' }),
  retry_limit: Type.Integer(),
  data: Type.Unknown(),
  output: Type.Unknown({ description: 'what a completed run returned, or a failed one\'s error (message, stack)' }),
  created_at: Timestamp,
  start_after: Timestamp,
  started_at: NullableTimestamp,
  completed_at: NullableTimestamp,
});
export const JobList = Type.Object({ data: Type.Array(JobView) });

export const JobsQuery = Type.Object(
  {
    state: Type.Optional(JobStateSchema),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  },
  { additionalProperties: false },
);

export const RunJobRequest = Type.Object(
  {
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'the job\'s input (a JSON object)' })),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000, description: 'higher runs first (default 0)' })),
  },
  { additionalProperties: false },
);
export const JobRun = Type.Object({
  id: Uuid,
  queue: Type.String(),
  queued: Type.Boolean({ description: 'false: a run of this recurring job was already waiting; its id is given' }),
});

/** RFC 9457 problem details, as every error is answered; the extension members some types carry are optional. */
export const Problem = Type.Object({
  type: Type.String({ format: 'uri' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  instance: Type.String(),
  /** validation_error: each offending value, by JSON pointer. */
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  /** unknown_sku, currency_not_offered: the SKUs concerned. */
  skus: Type.Optional(Type.Array(Type.String())),
  /** currency_not_offered: the currency asked for. */
  currency: Type.Optional(Type.String()),
});

export const Health = Type.Object({ status: Type.String(), checks: Type.Optional(Type.Record(Type.String(), Type.Boolean())) });

/** Text typed into a search box: no control characters (Postgres refuses a NUL in text). */
const SearchText = text(200);
/** An instant with its offset, as Postgres reads it (no year 0000). */
const Instant = Type.String({ format: 'date-time', pattern: '^(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}T' });
/** A UUID in its plain form (the `uuid` format also passes `urn:uuid:` ids, which Postgres refuses). */
const PlainUuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });

export const AdminOrdersQuery = Type.Object(
  {
    q: Type.Optional(SearchText),
    status: Type.Optional(OrderStatusSchema),
    cancellation_reason: Type.Optional(Type.String({ pattern: '^[a-z_]{1,50}$' })),
    created_after: Type.Optional(Instant),
    created_before: Type.Optional(Instant),
    limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const SagaRoleSchema = Type.Union([Type.Literal('start'), Type.Literal('step'), Type.Literal('compensation')]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const OrderTimeline = Type.Object({
  order: OrderResponse,
  entries: Type.Array(
    Type.Object({
      event_id: Uuid,
      event_type: Type.String(),
      service: Type.String({ description: 'the event\'s publisher' }),
      role: SagaRoleSchema,
      occurred_at: Timestamp,
      recorded_at: Timestamp,
      duration_ms: Type.Integer({ minimum: 0, description: 'since the previous entry occurred (0 for the first)' }),
      detail: Type.Record(Type.String(), Type.Unknown()),
    }),
  ),
  ahead: Type.Array(Type.Object({ event_type: Type.String(), service: Type.String(), role: SagaRoleSchema }), {
    description: 'the events the saga still expects, in order; empty once the order is completed or cancelled',
  }),
  retries: Type.Array(
    Type.Object({
      service: Type.String({ description: 'the service whose handler failed' }),
      event_id: Uuid,
      event_type: Type.String(),
      attempt: Type.Integer({ minimum: 1, description: '1 for the first retry' }),
      error: Type.String(),
      retried_at: Timestamp,
    }),
    { description: 'handler failures of this order\'s events that were tried again, as the services reported them, oldest first' },
  ),
  dead_letters: Type.Array(
    Type.Object({
      id: Uuid,
      service: Type.String(),
      event_type: NullableString,
      reason: Type.String(),
      error: NullableString,
      dead_lettered_at: Timestamp,
      replay_count: Type.Integer(),
    }),
    { description: 'open (not purged) dead letters of this order\'s events, oldest first' },
  ),
  payment: Type.Union([
    Type.Object({ payment_id: Type.String(), amount: DecimalAmount, currency: CurrencyCode, refunded: Type.Boolean(), refund_id: NullableString }),
    Type.Null(),
  ]),
  shipment: Type.Union([Type.Object({ tracking_number: Type.String(), carrier: Type.String() }), Type.Null()]),
});
export type OrderTimeline = Static<typeof OrderTimeline>;

export const DeadLetterGroupList = Type.Object({
  data: Type.Array(
    Type.Object({
      service: Type.String(),
      event_type: NullableString,
      reason: Type.String(),
      count: Type.Integer({ minimum: 1 }),
      first_seen: Timestamp,
      last_seen: Timestamp,
    }),
  ),
});

/** A group of dead letters, as GET /admin/dead-letters/groups names it. */
const GroupKey = Type.Object(
  { service: Type.String({ maxLength: 100 }), event_type: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]), reason: Type.String({ maxLength: 100 }) },
  { additionalProperties: false },
);

/** At most this many letters are replayed or purged per call. */
export const MAX_LETTERS_PER_CALL = 1000;

export const DeadLetterSelectionRequest = Type.Union(
  [
    Type.Object({ ids: Type.Array(PlainUuid, { minItems: 1, maxItems: MAX_LETTERS_PER_CALL }) }, { additionalProperties: false }),
    Type.Object({ group: GroupKey }, { additionalProperties: false }),
  ],
  { description: 'exactly one of `ids` (letters not purged) or `group` (its letters neither purged nor replayed yet)' },
);

const actedOn = { ids: Type.Array(Uuid), more: Type.Boolean({ description: `the group holds more letters than the ${MAX_LETTERS_PER_CALL} acted on: call again` }) };
export const DeadLetterReplayResult = Type.Object({ replayed: Type.Integer(), ...actedOn });
export const DeadLetterPurgeResult = Type.Object({ purged: Type.Integer(), ...actedOn });

const QueueFigure = Type.Object({ queue: Type.String(), ready: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'messages ready; null: the broker could not be asked' }) });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const BreakerState = Type.Union([Type.Literal('closed'), Type.Literal('half_open'), Type.Literal('open')]);

/** GET /admin/services: each saga service as its instances' status reports show it (ServiceBoard). */
export const ServiceList = Type.Object({
  data: Type.Array(
    Type.Object({
      service: Type.String(),
      instances_up: Type.Integer({ minimum: 0, description: 'instances that reported within three of their intervals' }),
      instances: Type.Array(
        Type.Object({
          instance: Type.String({ description: 'host:pid' }),
          started_at: Timestamp,
          last_seen: Timestamp,
          up: Type.Boolean(),
          paused_lanes: Type.Array(Type.String(), { description: 'lanes not consuming (a circuit the handlers need is open)' }),
          unacked: Type.Integer({ minimum: 0 }),
          breakers: Type.Array(Type.Object({ name: Type.String(), state: BreakerState })),
        }),
      ),
      lanes: Type.Array(
        Type.Object({
          lane: Type.String(),
          queue: Type.String(),
          ready: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
          consumers: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
          unacked: Type.Integer({ minimum: 0, description: 'delivered and not yet settled, all instances' }),
          paused_instances: Type.Integer({ minimum: 0 }),
        }),
      ),
      retry_queues: Type.Array(QueueFigure),
      dead_letter_queue: QueueFigure,
      open_dead_letters: Type.Integer({ minimum: 0, description: 'archived letters waiting for an operator' }),
      outbox: Type.Object({ unpublished: NullableNumber, oldest_age_seconds: NullableNumber }),
      breakers: Type.Array(Type.Object({ name: Type.String(), state: BreakerState, open_instances: Type.Integer({ minimum: 0 }) })),
      minutes: Type.Array(
        Type.Object({
          start: Timestamp,
          handled: Type.Integer({ minimum: 0 }),
          failed: Type.Integer({ minimum: 0, description: 'retried or dead-lettered' }),
          p50_ms: NullableNumber,
          p95_ms: NullableNumber,
        }),
        { description: 'messages settled per minute over the last 15 minutes, oldest first, the current minute last' },
      ),
    }),
  ),
});
