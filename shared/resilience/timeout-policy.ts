import type { Policy } from './policy.js';

/** Options of {@link timeoutPolicy}. */
export interface TimeoutPolicyOptions {
  /** Longest a call may run; must be a finite number > 0. */
  ms: number;
  /** The error a call that ran out of time rejects with; it is also the signal's abort reason. */
  error: () => Error;
}

/**
 * Gives each call `ms` to settle. The call gets a signal that aborts when the time passes (or when
 * the caller's signal aborts, with the caller's reason); the time passing also rejects the call at
 * once with `error()`, so a call that ignores its signal cannot hold the layers outside it (a
 * bulkhead slot, a retry) past its time. The abandoned call's own rejection is then dropped.
 * Driven by setTimeout, so fake timers drive it in tests.
 */
export function timeoutPolicy(options: TimeoutPolicyOptions): Policy {
  if (!Number.isFinite(options.ms) || options.ms <= 0) throw new RangeError(`ms must be a finite number > 0, got ${options.ms}`);
  return {
    async execute(fn, signal) {
      if (signal?.aborted) throw signal.reason;
      const controller = new AbortController();
      const onCallerAbort = () => controller.abort(signal?.reason);
      signal?.addEventListener('abort', onCallerAbort, { once: true });
      let timer: NodeJS.Timeout | undefined;
      try {
        const call = fn({ signal: controller.signal });
        call.catch(() => undefined); // read by the race below; after a timeout nobody else will
        const timedOut = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            const error = options.error();
            controller.abort(error);
            reject(error);
          }, options.ms);
        });
        return await Promise.race([call, timedOut]);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onCallerAbort);
      }
    },
  };
}
