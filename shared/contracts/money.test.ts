import { describe, expect, it } from 'vitest';
import { fromMinorUnits, isInvalidAmountError, normaliseAmount, toMinorUnits } from './money.js';

describe('money', () => {
  it('when a decimal string is converted, then it becomes exact minor units', () => {
    expect(toMinorUnits('19.99', 'USD')).toBe(1999n);
    expect(toMinorUnits('0.10', 'EUR')).toBe(10n);
    expect(toMinorUnits('5', 'USD')).toBe(500n);
    expect(toMinorUnits('2900', 'JPY')).toBe(2900n);
    expect(toMinorUnits('19.9900', 'USD')).toBe(1999n);
  });

  it('when minor units are formatted, then the currency decides the decimals', () => {
    expect(fromMinorUnits(1999n, 'USD')).toBe('19.99');
    expect(fromMinorUnits(5n, 'USD')).toBe('0.05');
    expect(fromMinorUnits(2900n, 'JPY')).toBe('2900');
    expect(normaliseAmount('5', 'GBP')).toBe('5.00');
  });

  it('when 0.1 + 0.2 is summed in minor units, then there is no float error', () => {
    expect(fromMinorUnits(toMinorUnits('0.1', 'USD') + toMinorUnits('0.2', 'USD'), 'USD')).toBe('0.30');
  });

  it('when an amount has too many decimals, is malformed or the currency is unknown, then it is rejected', () => {
    for (const [amount, currency] of [
      ['1.999', 'USD'],
      ['1.5', 'JPY'],
      ['-1', 'USD'],
      ['1e3', 'USD'],
      ['', 'USD'],
      ['1.00', 'XXX'],
    ] as const) {
      let caught: unknown;
      try {
        toMinorUnits(amount, currency);
      } catch (error) {
        caught = error;
      }
      expect(isInvalidAmountError(caught), `${amount} ${currency}`).toBe(true);
    }
  });
});
