import { describe, expect, it } from 'vitest';
import { backlogBound, decideAdmission, retryAfterSeconds, RETRY_AFTER_MAX_S, type BacklogLimit } from './admission-policy.js';

const adaptive: BacklogLimit = { kind: 'adaptive', min: 50, targetSeconds: 0.5 };

describe('the backlog bound', () => {
  it('when the bound is adaptive, then it is the orders ending per second × the target time, never below the floor', () => {
    expect(backlogBound(adaptive, 190)).toBe(95);
    expect(backlogBound(adaptive, 400)).toBe(200);
    expect(backlogBound(adaptive, 62)).toBe(50);
    expect(backlogBound(adaptive, 0)).toBe(50);
    expect(backlogBound({ kind: 'adaptive', min: 10, targetSeconds: 0.25 }, 101)).toBe(25);
  });

  it('when the bound is fixed or off, then the rate does not change it', () => {
    expect(backlogBound({ kind: 'fixed', max: 7 }, 1_000)).toBe(7);
    expect(backlogBound({ kind: 'fixed', max: 7 }, 0)).toBe(7);
    expect(backlogBound({ kind: 'off' }, 0)).toBe(Infinity);
  });
});

describe('Retry-After', () => {
  it('when orders are ending, then it is the time the excess takes to drain, rounded up', () => {
    expect(retryAfterSeconds(10, 5)).toBe(2);
    expect(retryAfterSeconds(11, 5)).toBe(3);
    expect(retryAfterSeconds(30, 2)).toBe(15);
  });

  it('when the drain is quicker than a second or longer than 30 s, then it is clamped to 1 and to 30', () => {
    expect(retryAfterSeconds(1, 190)).toBe(1);
    expect(retryAfterSeconds(0, 190)).toBe(1);
    expect(retryAfterSeconds(1_000, 2)).toBe(30);
  });

  it('when nothing has ended lately, then it is the longest wait (the backlog is not draining)', () => {
    expect(retryAfterSeconds(1, 0)).toBe(RETRY_AFTER_MAX_S);
    expect(retryAfterSeconds(1, Number.NaN)).toBe(RETRY_AFTER_MAX_S);
  });
});

describe('the admission decision', () => {
  it('when the backlog is below the bound, then the order is let in', () => {
    expect(decideAdmission({ kind: 'fixed', max: 3 }, 2, 0)).toEqual({ admit: true });
    expect(decideAdmission(adaptive, 94, 190)).toEqual({ admit: true });
    expect(decideAdmission({ kind: 'off' }, 1_000_000, 0)).toEqual({ admit: true });
  });

  it('when the backlog is at or over the bound, then it is refused with the wait for the excess (backlog − bound + 1) to end', () => {
    expect(decideAdmission({ kind: 'fixed', max: 3 }, 3, 10)).toEqual({ admit: false, backlog: 3, bound: 3, retryAfterSeconds: 1 });
    // 95 over a bound of 95 at 190/s: 96 must end, about half a second → 1 s.
    expect(decideAdmission(adaptive, 190, 190)).toEqual({ admit: false, backlog: 190, bound: 95, retryAfterSeconds: 1 });
    // Provider down: 0.2 orders end per second, 20 over → 105 s, clamped.
    expect(decideAdmission({ kind: 'fixed', max: 50 }, 70, 0.2)).toEqual({ admit: false, backlog: 70, bound: 50, retryAfterSeconds: 30 });
    expect(decideAdmission({ kind: 'fixed', max: 50 }, 59, 2)).toEqual({ admit: false, backlog: 59, bound: 50, retryAfterSeconds: 5 });
  });
});
