import type { Currency } from '../../../../shared/contracts/money.js';

/** Port of the Python `PaymentRequest` dataclass; the amount is a decimal string, never a float. */
export interface PaymentRequest {
  amount: string;
  currency: Currency;
  cardToken: string;
  customerId: string;
  description?: string;
  /** Lets the payment be found by order when its outcome is unknown. */
  orderId?: string;
}

export interface PaymentResponse {
  paymentId: string;
  status: 'succeeded' | 'failed';
  amount: string;
  currency: Currency;
  createdAt: Date;
  orderId?: string;
  amountRefunded: string;
}

export interface RefundRequest {
  paymentId: string;
  /** Default: what remains of the payment. */
  amount?: string;
  reason?: string;
}

export interface RefundResponse {
  refundId: string;
  paymentId: string;
  amount: string;
  currency: Currency;
  status: string;
  createdAt: Date;
}

export interface CallOptions {
  /** Same key, same effect: the provider performs a keyed request at most once. */
  idempotencyKey: string;
  signal?: AbortSignal;
}

/** Port of the Python `PaymentService` ABC, with refunds and look-ups added. */
export interface PaymentService {
  processPayment(request: PaymentRequest, options: CallOptions): Promise<PaymentResponse>;
  refundPayment(request: RefundRequest, options: CallOptions): Promise<RefundResponse>;
  /** Null when the provider does not know the payment. */
  getPayment(paymentId: string): Promise<PaymentResponse | null>;
  findPaymentsByOrder(orderId: string): Promise<PaymentResponse[]>;
}
