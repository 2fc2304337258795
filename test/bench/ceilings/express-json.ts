import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { HttpClient } from '../http-client.js';
import { closedLoop, type LoadResult } from '../http-load.js';

/** Ceiling (d): the bare express endpoint in its own process, driven by the same client and loop as ours. */
export async function expressJson(durationMs: number, concurrency: number, body: string): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'express-server.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
    const url = `http://127.0.0.1:${chunk.toString().trim()}/orders`;
    const client = new HttpClient(concurrency);
    const send = async () => (await client.send({ url, method: 'POST', headers: () => ({ 'content-type': 'application/json' }), body })).status === 202;
    await closedLoop(concurrency, 1_000, send); // warm-up
    const result = await closedLoop(concurrency, durationMs, send);
    client.close();
    return result;
  } finally {
    child.kill('SIGTERM');
  }
}
