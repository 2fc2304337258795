import { describe, expect, it } from 'vitest';
import { pruneInBatches } from './prune-job.js';

/** A pool whose statement changes `counts[i]` rows on its i-th run, recording the parameters it was given. */
function fakePool(counts: number[], onQuery: () => void = () => undefined) {
  const calls: unknown[][] = [];
  return {
    calls,
    query: async (_sql: string, params: unknown[]) => {
      calls.push(params);
      onQuery();
      return { rowCount: counts[calls.length - 1] ?? 0 };
    },
  };
}

describe('pruneInBatches', () => {
  it('when batches come back full, then it runs again until one comes back short, and counts every row', async () => {
    const pool = fakePool([3, 3, 1]);
    const changed = await pruneInBatches(pool as never, { sql: 'DELETE …', params: [60] }, new AbortController().signal, 3);
    expect(changed).toBe(7);
    expect(pool.calls).toEqual([[60, 3], [60, 3], [60, 3]]);
  });

  it('when the service stops during a prune, then it ends after the batch in flight and reports what it did', async () => {
    const stopping = new AbortController();
    const pool = fakePool([3, 3, 3, 3], () => pool.calls.length === 2 && stopping.abort());
    expect(await pruneInBatches(pool as never, { sql: 'DELETE …', params: [] }, stopping.signal, 3)).toBe(6);
    expect(pool.calls).toHaveLength(2);
  });
});
