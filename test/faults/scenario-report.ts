import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { InvariantReport } from './invariants.js';

/** Prints a scenario's figures and writes them to test/faults/results/<scenario>.json. */
export function report(scenario: string, figures: InvariantReport & Record<string, unknown>): void {
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${scenario}.json`), `${JSON.stringify({ scenario, ...figures }, null, 2)}\n`);
  const { violations, ...numbers } = figures;
  console.log(`[${scenario}] ${JSON.stringify(numbers)}${violations.length ? ` VIOLATIONS: ${violations.join(' | ')}` : ''}`);
}
