import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FAULT_RUNS_DIR, KEPT_MARKER, ProcessStack } from '../support/process-stack.js';

/**
 * Lists or deletes the fault runs kept after a failure (namespace: schemas, queues, exchanges; and
 * the log directory). Only directories marked kept count, so a run still going is never touched.
 *
 *   npx tsx test/faults/discard-kept-runs.ts              lists them
 *   npx tsx test/faults/discard-kept-runs.ts <namespace>… deletes those
 *   npx tsx test/faults/discard-kept-runs.ts --all        deletes every one
 */
const kept = existsSync(FAULT_RUNS_DIR)
  ? readdirSync(FAULT_RUNS_DIR).filter((name) => existsSync(path.join(FAULT_RUNS_DIR, name, KEPT_MARKER)))
  : [];
const args = process.argv.slice(2);
if (args.length === 0) {
  for (const namespace of kept) console.log(readFileSync(path.join(FAULT_RUNS_DIR, namespace, KEPT_MARKER), 'utf8'));
  console.log(`${kept.length} kept fault run(s) under ${FAULT_RUNS_DIR}`);
} else {
  const chosen = args.includes('--all') ? kept : args;
  for (const namespace of chosen) {
    if (!kept.includes(namespace)) {
      console.error(`${namespace}: not a kept fault run under ${FAULT_RUNS_DIR}; left alone`);
      process.exitCode = 1;
      continue;
    }
    await ProcessStack.discard(namespace);
    console.log(`${namespace}: deleted`);
  }
}
