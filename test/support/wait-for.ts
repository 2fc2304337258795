export interface WaitOptions {
  /** @defaultValue 20 000 */
  timeoutMs?: number;
  /** @defaultValue 50 */
  intervalMs?: number;
  /** Says what was awaited when the wait times out. */
  what?: string;
}

/**
 * Polls `probe` until it returns a value other than undefined/false, and returns that value.
 * Bounded: fails with the last value seen once the timeout passes.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'a condition'}; last: ${String(last instanceof Error ? last.message : JSON.stringify(last))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
