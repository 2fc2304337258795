import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The alerting rules and the compose Prometheus config, checked and unit-tested by Prometheus's own promtool. */
const PROMTOOL = '/usr/bin/promtool';
const dir = path.resolve(import.meta.dirname, '..', 'prometheus');

function promtool(...args: string[]): string {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: apt-get install prometheus`);
  // promtool prints its verdict on stdout and stderr both; a failure exits non-zero (execFileSync throws with the output).
  return execFileSync(PROMTOOL, args, { cwd: dir, timeout: 60_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('alerting rules (infra/prometheus)', () => {
  it('when promtool checks the rules and the config, then both are valid', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
    expect(promtool('check', 'config', 'prometheus.yml')).toContain('is valid prometheus config file syntax');
  });

  it('when promtool runs the rules unit tests, then every alert fires on its series and stays quiet on a healthy one', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toContain('SUCCESS');
  });
});
