import { Type } from '@sinclair/typebox';
import { NonRetryableError } from '../errors/non-retryable-error.js';

/**
 * Money on the wire: a decimal string ("19.99") plus an ISO 4217 currency; never a float.
 * Inside the code amounts are integers of the currency's minor unit (cents), held as bigint so
 * that arithmetic is exact.
 */
export const DecimalAmount = Type.String({
  pattern: '^(0|[1-9][0-9]{0,14})(\\.[0-9]{1,4})?$',
  description: 'non-negative decimal amount as a string, e.g. "19.99"',
  examples: ['19.99'],
});

/** Minor-unit exponents of the currencies the platform accepts. */
export const CURRENCY_EXPONENTS = { USD: 2, EUR: 2, GBP: 2, JPY: 0 } as const;
export type Currency = keyof typeof CURRENCY_EXPONENTS;
export const CURRENCIES = Object.keys(CURRENCY_EXPONENTS) as Currency[];

export const CurrencyCode = Type.Union(
  CURRENCIES.map((code) => Type.Literal(code)),
  { description: 'ISO 4217 currency code' },
);

export class InvalidAmountError extends NonRetryableError {
  override readonly code = 'invalid_amount';
}

export function isInvalidAmountError(error: unknown): error is InvalidAmountError {
  return error instanceof InvalidAmountError;
}

export function isCurrency(value: string): value is Currency {
  return Object.hasOwn(CURRENCY_EXPONENTS, value);
}

/** "19.99" USD → 1999n. Rejects more decimals than the currency has, or a malformed string. */
export function toMinorUnits(amount: string, currency: string): bigint {
  if (!isCurrency(currency)) throw new InvalidAmountError(`unsupported currency ${currency}`);
  const exponent = CURRENCY_EXPONENTS[currency];
  const match = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(amount);
  if (!match) throw new InvalidAmountError(`malformed amount ${JSON.stringify(amount)}`);
  const whole = match[1] ?? '0';
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > exponent) {
    throw new InvalidAmountError(`${currency} takes at most ${exponent} decimals, got ${amount}`);
  }
  return BigInt(whole + fraction.padEnd(exponent, '0'));
}

/** 1999n USD → "19.99"; always with the currency's number of decimals. */
export function fromMinorUnits(minor: bigint, currency: Currency): string {
  if (minor < 0n) throw new InvalidAmountError('negative amount');
  const exponent = CURRENCY_EXPONENTS[currency];
  if (exponent === 0) return minor.toString();
  const digits = minor.toString().padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** Normalises an amount to the currency's decimals: "5" USD → "5.00". */
export function normaliseAmount(amount: string, currency: Currency): string {
  return fromMinorUnits(toMinorUnits(amount, currency), currency);
}
