import { bulkhead as cockatielBulkhead, isBulkheadRejectedError, type BulkheadPolicy } from 'cockatiel';
import { AppError } from '../errors/app-error.js';
import type { Policy, PolicyContext } from './policy.js';

/**
 * Every slot is taken and the queue is full: the call was refused before it started, so nothing
 * was sent. Transient: the same call may succeed later, as when a circuit is open.
 */
export class BulkheadFullError extends AppError {
  readonly code = 'bulkhead_full';
}

/** Type guard for {@link BulkheadFullError}. */
export const isBulkheadFullError = (e: unknown): e is BulkheadFullError => e instanceof BulkheadFullError;

/** Options of {@link Bulkhead}. */
export interface BulkheadOptions {
  /** Names it in errors, e.g. `payment-provider-charge`. */
  name: string;
  /** Calls running at once; an integer ≥ 1, or Infinity for no cap. */
  maxConcurrent: number;
  /** Calls waiting for a slot, in arrival order; beyond them a call is refused. @defaultValue 0 */
  maxQueued?: number;
}

/**
 * At most `maxConcurrent` calls run at once and `maxQueued` wait; any further call is refused at
 * once with {@link BulkheadFullError}. On cockatiel's `bulkhead(limit, queue)`, with two changes:
 * - Its `BulkheadRejectedError` becomes our typed error, which carries the bulkhead's name.
 * - A caller that aborts while queued is rejected at once with its signal's reason; cockatiel
 *   would keep it waiting until a slot freed. The signal is not handed to cockatiel on purpose:
 *   cockatiel drops an aborted item at dequeue without dequeuing the next one, which can leave a
 *   free slot idle while calls wait. Here an aborted item takes its slot and gives it back at once,
 *   so the next one starts. It keeps its queue place until then.
 */
export class Bulkhead implements Policy {
  readonly name: string;
  private readonly policy: BulkheadPolicy;

  constructor(options: BulkheadOptions) {
    const maxQueued = options.maxQueued ?? 0;
    if (!(options.maxConcurrent === Number.POSITIVE_INFINITY || (Number.isInteger(options.maxConcurrent) && options.maxConcurrent >= 1))) {
      throw new RangeError(`maxConcurrent must be an integer ≥ 1 or Infinity, got ${options.maxConcurrent}`);
    }
    if (!(maxQueued === Number.POSITIVE_INFINITY || (Number.isInteger(maxQueued) && maxQueued >= 0))) {
      throw new RangeError(`maxQueued must be an integer ≥ 0 or Infinity, got ${maxQueued}`);
    }
    this.name = options.name;
    this.policy = cockatielBulkhead(options.maxConcurrent, maxQueued);
  }

  /** Free slots now. */
  get executionSlots(): number {
    return this.policy.executionSlots;
  }

  /** Free queue places now. */
  get queueSlots(): number {
    return this.policy.queueSlots;
  }

  execute<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      let started = false;
      const onAbort = () => {
        if (!started) reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.policy
        .execute(() => {
          started = true;
          signal?.removeEventListener('abort', onAbort);
          if (signal?.aborted) throw signal.reason;
          return fn(signal ? { signal } : {});
        })
        .then(resolve, (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(
            isBulkheadRejectedError(error)
              ? new BulkheadFullError(`bulkhead ${this.name} is full`, { context: { bulkhead: this.name } })
              : error,
          );
        });
    });
  }
}
