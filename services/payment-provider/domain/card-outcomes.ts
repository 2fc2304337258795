/** Test card tokens and what charging them does (as a Stripe test mode would). */
export type CardOutcome =
  | { kind: 'succeeds'; brand: string }
  | { kind: 'declined'; brand: string; code: 'card_declined' | 'insufficient_funds'; message: string };

const TOKENS: Record<string, CardOutcome> = {
  tok_visa: { kind: 'succeeds', brand: 'visa' },
  tok_mastercard: { kind: 'succeeds', brand: 'mastercard' },
  tok_chargeDeclined: { kind: 'declined', brand: 'visa', code: 'card_declined', message: 'Your card was declined.' },
  tok_insufficientFunds: {
    kind: 'declined',
    brand: 'visa',
    code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
};

/** The outcome for a token; undefined for a token the provider does not know. */
export function cardOutcome(token: string): CardOutcome | undefined {
  return Object.hasOwn(TOKENS, token) ? TOKENS[token] : undefined;
}
