/**
 * `npm start`: runs every service as its own process against the local RabbitMQ, Postgres and
 * Redis (each migrates its schema and seeds the demo catalog at start), forwards their JSON log
 * lines, and stops them all gracefully on Ctrl-C / SIGTERM. If one exits on its own (for example
 * because a server it needs is down: it prints one line saying which and how to start it), the
 * others are stopped too and the exit code is passed on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVICES = ['payment-provider', 'inventory-service', 'payment-service', 'shipping-service', 'order-service'];

const here = path.dirname(fileURLToPath(import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const root = path.resolve(here, '..', '..');
const children = new Map<string, ChildProcess>();
let stopping = false;

function mainOf(service: string): string[] {
  return fromSource
    ? ['--import', 'tsx', path.join(root, 'services', service, 'main.ts')]
    : [path.join(root, 'services', service, 'main.js')];
}

function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children.values()) child.kill('SIGTERM');
  const forced = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 15_000);
  forced.unref();
  const wait = () => {
    if (children.size === 0) process.exit(code);
    setTimeout(wait, 100).unref();
  };
  wait();
}

// Every service reads PORT and METRICS_PORT; under one launcher each keeps its own defaults instead.
const { PORT: _shared, METRICS_PORT: _sharedMetrics, ...childEnv } = process.env;

for (const service of SERVICES) {
  const child = spawn(process.execPath, mainOf(service), { stdio: 'inherit', env: childEnv });
  children.set(service, child);
  child.on('exit', (code, signal) => {
    children.delete(service);
    if (!stopping) {
      process.stderr.write(`start-all: ${service} exited (${signal ?? `code ${code}`}); stopping the others\n`);
      stopAll(code || 1);
    }
  });
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
process.stderr.write(
  `start-all: started ${SERVICES.join(', ')}; order API on http://127.0.0.1:3000, provider on :4010 (Ctrl-C stops)\n`,
);
