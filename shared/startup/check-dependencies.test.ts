import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isDependencyUnavailableError } from '../errors/dependency-unavailable-error.js';
import { assertReachable } from './check-dependencies.js';

const servers: net.Server[] = [];

/** A loopback port that accepts connections (closed after each test). */
async function listening(): Promise<number> {
  const server = net.createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A loopback port nothing listens on. */
async function closed(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('assertReachable with a list of nodes', () => {
  it('when only the last node of the list answers, then the check passes', async () => {
    const [down1, down2, up] = [await closed(), await closed(), await listening()];
    await expect(
      assertReachable('RabbitMQ', `amqp://guest:guest@127.0.0.1:${down1},amqp://guest:guest@127.0.0.1:${down2},amqp://guest:guest@127.0.0.1:${up}`),
    ).resolves.toBeUndefined();
  });

  it('when no node answers, then one error names every node and no password', async () => {
    const ports = [await closed(), await closed(), await closed()];
    const error = await assertReachable('RabbitMQ', ports.map((port) => `amqp://guest:s3cret@127.0.0.1:${port}`)).catch((e: unknown) => e);
    expect(isDependencyUnavailableError(error)).toBe(true);
    const target = String((error as { context: { target: string } }).context.target);
    expect(target).toBe(ports.map((port) => `127.0.0.1:${port}`).join(', '));
    expect(JSON.stringify((error as { context: object }).context)).not.toContain('s3cret');
  });

  it('when one URL is given, then it is checked as before', async () => {
    const up = await listening();
    await expect(assertReachable('PostgreSQL', `postgres://postgres@127.0.0.1:${up}/postgres`)).resolves.toBeUndefined();
    const down = await closed();
    await expect(assertReachable('Redis', `redis://127.0.0.1:${down}`)).rejects.toMatchObject({ context: { target: `127.0.0.1:${down}` } });
  });
});
