import type { Currency } from '../../../../shared/contracts/money.js';

/** Port of the Python `PaymentRequest` dataclass; the amount is a decimal string, never a float. */
export interface PaymentRequest {
  /** Decimal string in the currency's units, e.g. "19.99" (the Python used `Decimal`). */
  amount: string;
  currency: Currency;
  /** Secret: the card token (`source` on the wire); never logged. */
  cardToken: string;
  customerId: string;
  description?: string;
  /** Lets the payment be found by order when its outcome is unknown. */
  orderId?: string;
}

/** Port of the Python `PaymentResponse` dataclass, plus the order and refunded amount. */
export interface PaymentResponse {
  paymentId: string;
  status: 'succeeded' | 'failed';
  /** Decimal string, e.g. "19.99". */
  amount: string;
  currency: Currency;
  createdAt: Date;
  orderId?: string;
  /** Decimal string; "0.00" until refunded. */
  amountRefunded: string;
}

/** A refund of a payment, whole or in part. */
export interface RefundRequest {
  paymentId: string;
  /** Decimal string. Default: what remains of the payment. */
  amount?: string;
  reason?: string;
}

/** The provider's record of a refund. */
export interface RefundResponse {
  refundId: string;
  paymentId: string;
  /** Decimal string. */
  amount: string;
  currency: Currency;
  /** 'succeeded' from the mock provider; kept open for providers with asynchronous refunds. */
  status: string;
  createdAt: Date;
}

/** One page of a list, newest first: up to `limit` items after the cursor (an item's id). */
export interface ListPage {
  /** 1 to 100. */
  limit: number;
  startingAfter?: string;
}

export interface Page<T> {
  items: T[];
  hasMore: boolean;
}

/** Options of a charge or refund. */
export interface CallOptions {
  /** Same key, same effect: the provider performs a keyed request at most once. */
  idempotencyKey: string;
  /** Cancels the call; once the request may have left, the outcome is then unknown. */
  signal?: AbortSignal;
}

/**
 * Port of the Python `PaymentService` ABC, with refunds and look-ups added: the look-ups are how
 * an unknown outcome (timeout, 5xx) is settled. Failures are typed (see payment-errors.ts).
 */
export interface PaymentService {
  processPayment(request: PaymentRequest, options: CallOptions): Promise<PaymentResponse>;
  refundPayment(request: RefundRequest, options: CallOptions): Promise<RefundResponse>;
  /** Null when the provider does not know the payment (404). */
  getPayment(paymentId: string): Promise<PaymentResponse | null>;
  /** Every payment the provider holds for the order, failed ones included. */
  findPaymentsByOrder(orderId: string): Promise<PaymentResponse[]>;
  /** The ledger's payments, newest first, a page at a time (the reconciliation reads it). */
  listPayments(page: ListPage): Promise<Page<PaymentResponse>>;
  /** The ledger's refunds, newest first, a page at a time. */
  listRefunds(page: ListPage): Promise<Page<RefundResponse>>;
}
