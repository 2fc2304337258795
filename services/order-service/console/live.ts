import { useEffect, useState } from 'preact/hooks';
import { ApiError, getIfChanged } from './api.js';

/** How often a live page asks whether its data changed (a 304 costs the server one query and no body). */
export const POLL_MS = 2_000;

export interface Live<T> {
  data: T | undefined;
  error: ApiError | undefined;
  /** Ask now (after an action), instead of at the next tick. */
  refresh: () => void;
}

/**
 * The data at `path`, kept current: asked again every POLL_MS with the ETag of what is shown, so the
 * page changes by itself when the server's answer does, and costs little while it does not.
 */
export function useLive<T>(path: string | null): Live<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    setData(undefined);
    setError(undefined);
  }, [path]);
  useEffect(() => {
    if (path === null) return;
    let etag: string | undefined;
    let stopped = false;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const answer = await getIfChanged<T>(path, etag);
        if (stopped) return;
        if (!answer.unchanged) {
          etag = answer.etag;
          setData(answer.body);
        }
        setError(undefined);
      } catch (caught) {
        if (!stopped) setError(caught instanceof ApiError ? caught : new ApiError(0, 'error', String(caught)));
      }
      if (!stopped) timer = window.setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [path, tick]);
  return { data, error, refresh: () => setTick((n) => n + 1) };
}
