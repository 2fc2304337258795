import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../../shared/logging/logger.js';
import { problemHandler } from './problem.js';

let thrown: unknown;
let server: ReturnType<express.Express['listen']>;
let url: string;

beforeAll(async () => {
  const app = express();
  app.get('/fail', () => {
    throw thrown;
  });
  app.use(problemHandler(createLogger({ service: 'order-service', level: 'silent' })));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fail`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

const pgError = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('problemHandler', () => {
  it.each([
    ['a terminated backend (57P01)', pgError('terminating connection due to administrator command', '57P01')],
    ['a connection lost mid-query', pgError('Connection terminated unexpectedly')],
    ['a client whose connection had already failed', pgError('Client has encountered a connection error and is not queryable')],
    ['a pool that cannot connect', pgError('timeout exceeded when trying to connect')],
    ['a refused connection', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
  ])('when the error is %s, then it answers a declared 503 with Retry-After', async (_name, error) => {
    thrown = error;
    const response = await fetch(url);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ type: 'urn:order-platform:problem:service_unavailable', status: 503 });
  });

  it('when the error is anything else, then it answers 500 internal_error without a stack trace', async () => {
    thrown = new Error('boom at secret place');
    const response = await fetch(url);
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(JSON.parse(body)).toMatchObject({ type: 'urn:order-platform:problem:internal_error' });
    expect(body).not.toContain('boom');
    expect(body).not.toContain('at ');
  });
});
