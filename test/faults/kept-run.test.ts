import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { TestBroker } from '../support/broker.js';
import { KEPT_MARKER, ProcessStack } from '../support/process-stack.js';
import { noteKeptRun } from './kept-run.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const root = path.resolve(import.meta.dirname, '..', '..');
const db = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
db.on('error', () => undefined);

afterAll(async () => {
  await db.end();
});

async function schemasOf(namespace: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_namespace WHERE starts_with(nspname, $1)', [namespace]);
  return rows[0]?.n ?? 0;
}

/** Whether the namespace's inventory queue is still there (checked on a connection of its own: a miss closes the channel). */
async function queueExists(stack: ProcessStack): Promise<boolean> {
  const broker = await TestBroker.connect(stack.amqpUrl, stack.namespace);
  try {
    await broker.messageCount(broker.names.queue('inventory-service'));
    return true;
  } catch {
    return false;
  } finally {
    await broker.close();
  }
}

describe('a fault run kept after a failure', () => {
  it('when a stack is stopped with keep, then its schemas, queues and logs stay with a note, and the discard script deletes them all', async () => {
    const stack = await ProcessStack.start();
    await stack.stop({ keep: true });
    const note = noteKeptRun(stack, ['scenario example: 4: STICKER-PACK has 1 reserved, completed orders took 0']);

    expect(note).toContain(stack.namespace);
    expect(note).toContain(stack.logDir);
    expect(note).not.toContain('guest:guest');
    expect(readFileSync(path.join(stack.logDir, KEPT_MARKER), 'utf8')).toBe(`${note}\n`);
    expect(readFileSync(path.join(stack.logDir, 'inventory-service.log'), 'utf8')).not.toBe('');
    expect(await schemasOf(stack.namespace)).toBeGreaterThan(0);
    expect(await queueExists(stack)).toBe(true);

    const listed = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/faults/discard-kept-runs.ts'], { cwd: root });
    expect(listed.stdout).toContain(stack.namespace);
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/faults/discard-kept-runs.ts', stack.namespace], { cwd: root });

    expect(existsSync(stack.logDir)).toBe(false);
    expect(await schemasOf(stack.namespace)).toBe(0);
    expect(await queueExists(stack)).toBe(false);
  });

  it('when a stack is stopped without keep, then nothing of it is left', async () => {
    const stack = await ProcessStack.start();
    await stack.stop();
    expect(existsSync(stack.logDir)).toBe(false);
    expect(await schemasOf(stack.namespace)).toBe(0);
    expect(await queueExists(stack)).toBe(false);
  });
});
