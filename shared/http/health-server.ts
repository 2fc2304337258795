import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

export interface HealthServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Readiness probes by name; each resolves true when its dependency answers. */
export type ReadinessChecks = Record<string, () => Promise<boolean>>;

/**
 * `GET /healthz` (the process is alive) and `GET /readyz` (every dependency in `checks` answers;
 * otherwise 503 with Retry-After). `degradable` dependencies are reported too, but one that is down
 * leaves the service ready: it works on without them, with less (see the service's README section).
 */
export function healthRouter(checks: ReadinessChecks, degradable: ReadinessChecks = {}): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const run = async (probes: ReadinessChecks) =>
    Object.fromEntries(await Promise.all(Object.entries(probes).map(async ([name, check]) => [name, await check().catch(() => false)] as const)));
  router.get('/readyz', async (_req, res) => {
    const [results, optional] = await Promise.all([run(checks), run(degradable)]);
    const ready = Object.values(results).every(Boolean);
    const degraded = !Object.values(optional).every(Boolean);
    res.status(ready ? 200 : 503);
    if (!ready) res.setHeader('Retry-After', '5');
    res.json({ status: ready ? (degraded ? 'degraded' : 'ready') : 'not_ready', checks: { ...results, ...optional } });
  });
  return router;
}

/** Starts an express app on host:port (port 0 picks a free one) and resolves with its URL. */
export async function listen(app: express.Express, port: number, host = '127.0.0.1'): Promise<HealthServer & { server: Server }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Finish requests in progress; drop idle keep-alive sockets now, and any straggler after 5 s.
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      }),
  };
}
