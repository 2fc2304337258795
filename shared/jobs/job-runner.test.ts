import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isJobEnd } from './job-runner.js';

// pg-boss's statement texts, from the installed version: a new version that changes them fails here.
const plans = createRequire(import.meta.url)('pg-boss/src/plans.js') as Record<string, unknown>;

describe('isJobEnd', () => {
  it("matches exactly pg-boss's two statements that record a job's end without awaiting them", () => {
    const matching = Object.entries(plans)
      .filter(([, plan]) => typeof plan === 'function')
      .flatMap(([name, plan]) => {
        let text: unknown;
        try {
          text = (plan as (schema: string) => unknown)('jobs');
        } catch {
          return [];
        }
        return typeof text === 'string' && isJobEnd(text) ? [name] : [];
      });
    expect(matching.sort()).toEqual(['completeJobs', 'failJobsById']);
  });
});
