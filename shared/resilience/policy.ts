/** What a {@link Policy} hands the function it runs; each layer may add to it. */
export interface PolicyContext {
  /** Aborted when the caller gives up or an enclosing timeout fires: hand it to the I/O. */
  signal?: AbortSignal;
  /** Set by a retry policy: 1 for the first attempt. */
  attempt?: number;
}

/**
 * A layer around an asynchronous call (bulkhead, breaker, retry, timeout): the `execute` of
 * cockatiel's `IPolicy`, without its events. cockatiel's own policies have this shape.
 */
export interface Policy {
  execute<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/**
 * The policies as one, outermost first, read in the order a call goes in:
 * `compose(bulkhead, breaker, retry, timeout)` waits for a slot, then asks the breaker, then
 * retries attempts that each have a timeout. The function receives every layer's context merged
 * (the retry's `attempt`, the innermost `signal`).
 *
 * Ours rather than cockatiel's `wrap(...)`, whose semantics it copies: `wrap` takes only complete
 * `IPolicy` objects (with success and failure events), and the breaker here is opossum, which is
 * not one; neither is the project's retry, which honours Retry-After. This interface is the part
 * of `IPolicy` that composing needs.
 */
export function compose(...policies: Policy[]): Policy {
  return {
    execute<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
      const run = (context: PolicyContext, index: number): Promise<T> => {
        const policy = policies[index];
        if (!policy) return fn(context);
        return policy.execute((added) => run({ ...context, ...added }, index + 1), context.signal);
      };
      return run(signal ? { signal } : {}, 0);
    },
  };
}
