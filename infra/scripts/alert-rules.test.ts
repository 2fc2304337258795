import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The alerting rules and the compose Prometheus config, checked and unit-tested by Prometheus's own
 * promtool (Debian's package `prometheus`; `.ci/run` installs it). Without promtool these tests
 * fail, they are not skipped.
 */
const PROMTOOL = '/usr/bin/promtool';
const root = path.resolve(import.meta.dirname, '..', '..');
const dir = path.join(root, 'infra', 'prometheus');
const RULES = path.join(dir, 'alerts.yml');
const RULE_TESTS = path.join(dir, 'alerts.test.yml');
const GUIDE = path.join(root, 'docs', 'observability.md');

/** Runs promtool in infra/prometheus (bounded); fails with its whole output unless it exits 0. */
function promtool(...args: string[]): string {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: apt-get install prometheus`);
  const run = spawnSync(PROMTOOL, args, { cwd: dir, timeout: 60_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (run.error) throw new Error(`promtool ${args.join(' ')} could not run: ${run.error.message}\n${output}`);
  expect(run.status, `promtool ${args.join(' ')} exited ${run.status ?? run.signal}:\n${output}`).toBe(0);
  return output;
}

interface Rule {
  name: string;
  body: string;
}

/** Each `- alert:` of alerts.yml with the text up to the next one (the file is ours: one rule per block). */
function rules(): Rule[] {
  const text = readFileSync(RULES, 'utf8');
  return text
    .split(/^\s*- alert: /m)
    .slice(1)
    .map((block) => ({ name: block.split('\n', 1)[0]!.trim(), body: block }));
}

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces as dashes. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');

describe('alerting rules (infra/prometheus)', () => {
  it('when promtool checks the rules and the config, then both are valid', () => {
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
    const config = promtool('check', 'config', 'prometheus.yml');
    expect(config).toContain('SUCCESS: prometheus.yml is valid prometheus config file syntax');
    expect(config).toContain('SUCCESS: 1 rule files found');
  });

  it('when promtool runs the rules unit tests, then every alert fires on its series and stays quiet on a healthy one', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toMatch(/Unit Testing: +alerts\.test\.yml\s+SUCCESS/);
  });

  it('when the rules are read, then each has a severity, a summary, a description and a runbook section in docs/observability.md', () => {
    const found = rules();
    expect(found.length).toBeGreaterThan(5);
    const anchors = new Set([...readFileSync(GUIDE, 'utf8').matchAll(/^#{2,4} (.+)$/gm)].map(([, heading]) => anchorOf(heading!)));
    const problems = found.flatMap(({ name, body }) => {
      const wrong: string[] = [];
      if (!/^\s+severity: (page|ticket)\s*$/m.test(body)) wrong.push(`${name}: severity must be page or ticket`);
      if (!/^\s+summary: \S/m.test(body)) wrong.push(`${name}: no summary`);
      if (!/^\s+description: \S/m.test(body)) wrong.push(`${name}: no description`);
      const runbook = /^\s+runbook: docs\/observability\.md#(\S+)\s*$/m.exec(body)?.[1];
      if (!runbook) wrong.push(`${name}: no runbook annotation pointing into docs/observability.md`);
      else if (!anchors.has(runbook)) wrong.push(`${name}: docs/observability.md has no section #${runbook}`);
      return wrong;
    });
    expect(problems).toEqual([]);
  });

  it('when the rules unit tests are read, then every alert has a case that fires it and one that does not', () => {
    const cases = [...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\w+)\s*\n\s*exp_alerts:( \[\])?/g)];
    const missing = rules().flatMap(({ name }) => {
      const mine = cases.filter(([, alert]) => alert === name);
      return [
        ...(mine.some(([, , empty]) => !empty) ? [] : [`${name}: no case that fires it`]),
        ...(mine.some(([, , empty]) => empty) ? [] : [`${name}: no case where it stays quiet`]),
      ];
    });
    expect(missing).toEqual([]);
  });
});
