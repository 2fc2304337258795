import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '../config/load-env.js';
import { createLogger } from '../logging/logger.js';
import { createMetricsRegistry, sampledGauge, startMetricsServer } from './metrics.js';

const logger = createLogger({ service: 'metrics-test', level: 'error' });

describe('startMetricsServer', () => {
  it('when METRICS_PORT is 0, then nothing listens and there is no url', async () => {
    const server = await startMetricsServer({ registry: createMetricsRegistry(), port: 0, host: '127.0.0.1', logger });
    expect(server.url).toBeUndefined();
    await server.close();
  });

  it('when the port is taken, then the start fails with one configuration error naming METRICS_PORT', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const failure = await startMetricsServer({ registry: createMetricsRegistry(), port, host: '127.0.0.1', logger }).catch((error: unknown) => error);
      expect(isConfigError(failure)).toBe(true);
      expect((failure as Error).message).toBe(`METRICS_PORT ${port} is already in use on 127.0.0.1: give this instance a free port (or 0 to turn metrics off)`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('sampledGauge', () => {
  it('when reads come together, then they share one; a failed read keeps the last value', async () => {
    const registry = createMetricsRegistry();
    let reads = 0;
    let fail = false;
    sampledGauge({
      registry,
      name: 'test_sampled',
      help: 'test',
      logger,
      minIntervalMs: 50,
      read: async () => {
        reads += 1;
        if (fail) throw new Error('down');
        return [{ value: reads }];
      },
    });
    const read = async () => (await registry.getSingleMetric('test_sampled')!.get()).values[0]?.value;
    expect(await Promise.all([read(), read()])).toEqual([1, 1]);
    expect(reads).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    fail = true;
    expect(await read()).toBe(1);
    expect(reads).toBe(2);
  });
});
