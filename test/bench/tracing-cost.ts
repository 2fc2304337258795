import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ALL_PROCESSES, ProcessStack } from '../support/process-stack.js';
import { authHeader } from '../support/tokens.js';
import type { BenchConfig } from './bench-config.js';
import type { HttpClient } from './http-client.js';
import { closedLoop, openLoop, type Send } from './http-load.js';
import { orderSender, sagaOutcome } from './order-load.js';
import { CpuSampler, pidsNamed } from './process-usage.js';
import type { PhaseResult } from './report.js';
import { cpuMsPerSaga } from './summary.js';

/** One stack's figures, with tracing off or on (every span sampled, exported over OTLP). */
export interface TracingVariant {
  tracing: 'off' | 'on';
  /** Closed loop: the most sagas the stack completes per second. */
  sagasPerSecond: number;
  cpuMsPerSaga: number | null;
  /** Open loop at `fixedRate`: POST /orders and order → completed latencies. */
  postP50Ms: number;
  postP99Ms: number;
  sagaP50Ms: number;
  sagaP99Ms: number;
  /** OTLP export requests and bytes the receiver got during the variant. */
  exports: number;
  exportedKb: number;
}

export interface TracingCost {
  fixedRate: number;
  concurrency: number;
  /** In the order run: off, on, off, on (pairs back to back, so drift shows). */
  variants: TracingVariant[];
}

/**
 * The cost of tracing: the same stack started with tracing off, then on (OTEL_TRACES_EXPORTER=otlp,
 * every trace sampled, spans sent over OTLP/HTTP protobuf to a receiver in this process that counts
 * and drops them), twice in turn. Each variant: an open-loop phase at a fixed rate (latencies),
 * then a closed-loop phase (throughput and CPU per saga).
 */
export async function measureTracingCost(options: {
  config: BenchConfig;
  client: HttpClient;
  log: (line: string) => void;
  /** Environment every stack gets (the bench's own settings). */
  env: Record<string, string>;
  fixedRate?: number;
}): Promise<TracingCost> {
  const { config, client, log } = options;
  const fixedRate = options.fixedRate ?? 50;
  const receiver = await otlpReceiver();
  const variants: TracingVariant[] = [];
  try {
    for (const tracing of ['off', 'on', 'off', 'on'] as const) {
      const env: Record<string, string> = {
        ...options.env,
        ...(tracing === 'on'
          ? {
              OTEL_TRACES_EXPORTER: 'otlp',
              OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
              OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
              OTEL_TRACES_SAMPLER: 'always_on',
            }
          : { OTEL_TRACES_EXPORTER: 'none' }),
      };
      const stack = await ProcessStack.start(env, { compiled: true });
      try {
        await stack.db.query(`UPDATE ${stack.table('inventory-service', 'stock')} SET available = 100000000`);
        await stack.db.query(`UPDATE ${stack.table('order-service', 'product_stock')} SET available = 100000000`);
        const auth = await authHeader('bench');
        const ordersTable = stack.table('order-service', 'orders');
        const cpu = new CpuSampler(() => ({
          ...Object.fromEntries(ALL_PROCESSES.map((name) => [name, [stack.pid(name) ?? -1]])),
          rabbitmq: pidsNamed('beam.smp'),
          postgres: pidsNamed('postgres'),
          redis: pidsNamed('redis-server'),
          'bench driver': [process.pid],
        }));
        const run = async (drive: (send: Send) => ReturnType<typeof openLoop>) => {
          const accepted: string[] = [];
          cpu.start();
          const http = await drive(orderSender(client, stack.orderApi, auth, accepted));
          const sagas = await sagaOutcome(stack.db, ordersTable, accepted, config.settleMs);
          return { http, sagas, cpuPercent: cpu.stop() };
        };
        await run((send) => openLoop(20, 2_000, send));
        const before = { ...receiver.counts };
        const fixed = await run((send) => openLoop(fixedRate, config.phaseMs / 2, send));
        const saturated = await run((send) => closedLoop(config.concurrency, config.phaseMs, send));
        const variant: TracingVariant = {
          tracing,
          sagasPerSecond: saturated.sagas.sagasPerSecond,
          cpuMsPerSaga: cpuMsPerSaga({ ...saturated, name: 'closed', failures: {}, pgTransactionsPerOrder: 0 } satisfies PhaseResult),
          postP50Ms: fixed.http.latencyMs.p50,
          postP99Ms: fixed.http.latencyMs.p99,
          sagaP50Ms: fixed.sagas.orderToCompletedMs.p50,
          sagaP99Ms: fixed.sagas.orderToCompletedMs.p99,
          exports: receiver.counts.requests - before.requests,
          exportedKb: Math.round((receiver.counts.bytes - before.bytes) / 1024),
        };
        variants.push(variant);
        log(`tracing ${tracing}: ${JSON.stringify(variant)}`);
      } finally {
        await stack.stop();
      }
    }
  } finally {
    await receiver.close();
  }
  return { fixedRate, concurrency: config.concurrency, variants };
}

/** An OTLP/HTTP endpoint that takes every export, counts it and answers 200 (nothing is kept). */
async function otlpReceiver(): Promise<{ url: string; counts: { requests: number; bytes: number }; close(): Promise<void> }> {
  const counts = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (counts.bytes += chunk.length));
    req.on('end', () => {
      counts.requests += 1;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The markdown section: each variant, then on / off for each pair run back to back. */
export function tracingMarkdown(cost: TracingCost): string[] {
  const lines = [
    '',
    '## Tracing off and on',
    '',
    `The same stack started four times, tracing off, on, off, on; on: OTEL_TRACES_EXPORTER=otlp over HTTP/protobuf, every trace sampled (always_on), to a receiver in the bench driver that drops what it gets. Latencies at ${cost.fixedRate} orders/s open loop; throughput and CPU in a closed loop of ${cost.concurrency}.`,
    '',
    '| run | tracing | sagas/s (closed) | CPU ms per saga | POST p50 / p99 ms | order→completed p50 / p99 ms | OTLP exports (KB) |',
    '|---|---|---|---|---|---|---|',
  ];
  cost.variants.forEach((v, i) =>
    lines.push(`| ${i + 1} | ${v.tracing} | ${v.sagasPerSecond} | ${v.cpuMsPerSaga ?? 'n/a'} | ${v.postP50Ms} / ${v.postP99Ms} | ${v.sagaP50Ms} / ${v.sagaP99Ms} | ${v.exports} (${v.exportedKb}) |`),
  );
  const pairs: string[] = [];
  for (let i = 0; i + 1 < cost.variants.length; i += 2) {
    const [off, on] = [cost.variants[i]!, cost.variants[i + 1]!];
    const cpu = off.cpuMsPerSaga && on.cpuMsPerSaga ? `CPU per saga ×${(on.cpuMsPerSaga / off.cpuMsPerSaga).toFixed(2)}` : 'CPU n/a';
    pairs.push(`pair ${i / 2 + 1}: sagas/s ×${(on.sagasPerSecond / Math.max(1, off.sagasPerSecond)).toFixed(2)}, ${cpu}, order→completed p50 ${on.sagaP50Ms - off.sagaP50Ms >= 0 ? '+' : ''}${on.sagaP50Ms - off.sagaP50Ms} ms`);
  }
  lines.push('', `On against off: ${pairs.join('; ')}.`);
  return lines;
}
