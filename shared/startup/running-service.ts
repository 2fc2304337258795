/** What a started service hands back to whoever started it (its main.ts, or a test). */
export interface RunningService {
  /** Base URL of its HTTP listener, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  /** Stops taking work, finishes what it holds, acknowledges, closes its connections. */
  stop(): Promise<void>;
}
