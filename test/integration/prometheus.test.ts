import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROCESSES, ProcessStack } from '../support/process-stack.js';
import { OrderApi, orderBody, type OrderView } from '../support/order-api.js';
import { waitFor } from '../support/wait-for.js';

/**
 * A real Prometheus (Debian's package) scraping every process of a stack every second, asked
 * through its HTTP API, as an operator's dashboards and alerts would ask it. Then the PromQL of the
 * Grafana dashboard and the alert rules: every metric they name must be one the services export.
 */
const PROMETHEUS = '/usr/bin/prometheus';
const root = path.resolve(import.meta.dirname, '..', '..');
const RULES = path.join(root, 'infra', 'prometheus', 'alerts.yml');
const DASHBOARDS = path.join(root, 'infra', 'grafana', 'dashboards');

let stack: ProcessStack;
let prometheus: ChildProcess | undefined;
let prometheusUrl: string;
let dataDir: string;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promql: string): Promise<Sample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; data: { result: Sample[] }; error?: string };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

/** Waits (bounded) until `promql` answers what `accept` wants; fails showing the last answer. */
async function eventually(promql: string, accept: (result: Sample[]) => boolean): Promise<Sample[]> {
  let last: Sample[] = [];
  try {
    return await waitFor(
      async () => {
        last = await query(promql);
        return accept(last) ? last : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: promql },
    );
  } catch (error) {
    throw new Error(`${promql} never gave the expected answer; last: ${JSON.stringify(last)}`, { cause: error });
  }
}

const scalar = (result: Sample[]) => (result.length === 1 ? Number(result[0]!.value[1]) : NaN);

beforeAll(async () => {
  if (!existsSync(PROMETHEUS)) throw new Error(`${PROMETHEUS} is missing: apt-get install prometheus`);
  stack = await ProcessStack.start({ SAGA_TIMEOUT_MS: '60000' });
  dataDir = mkdtempSync(path.join(tmpdir(), 'prometheus-'));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 900ms',
    '  evaluation_interval: 1s',
    ...(existsSync(RULES) ? ['rule_files:', `  - ${RULES}`] : []),
    'scrape_configs:',
    ...ALL_PROCESSES.flatMap((name) => [
      `  - job_name: ${name}`,
      '    static_configs:',
      `      - targets: ['${new URL(stack.metricsUrl(name)).host}']`,
    ]),
  ].join('\n');
  writeFileSync(path.join(dataDir, 'prometheus.yml'), `${config}\n`);
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    PROMETHEUS,
    [`--config.file=${path.join(dataDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dataDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  prometheus.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  await waitFor(
    async () => {
      if (prometheus?.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
      return (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.ok;
    },
    { timeoutMs: 30_000, what: 'prometheus to be ready' },
  );
  await eventually('sum(up)', (result) => scalar(result) === ALL_PROCESSES.length);
});

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
    prometheus.kill('SIGTERM');
    const timer = setTimeout(() => prometheus?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await stack?.stop();
});

describe('Prometheus scraping a running stack', () => {
  const ended: OrderView[] = [];

  it('when orders complete, decline and fail to ship and a poison message arrives, then PromQL counts them as the API does', async () => {
    const api = new OrderApi(stack, 'cus_prometheus');
    const placed = await Promise.all([
      ...Array.from({ length: 4 }, () => api.place(orderBody({ items: [{ sku: 'MUG-LOGO', quantity: 1 }] }))),
      api.place(orderBody({ items: [{ sku: 'BOOK-SAGAS', quantity: 1 }], payment_source: 'tok_chargeDeclined' })),
      api.place(orderBody({ items: [{ sku: 'LAMP-DESK', quantity: 1 }], shipping_address: { ...orderBody().shipping_address, country: 'AQ' } })),
    ]);
    await stack.broker.sendToQueue(`${stack.namespace}shipping-service`, 'this is not an event');
    for (const order of placed) ended.push(await api.settled(order.id, 30_000));

    const completed = ended.filter((order) => order.status === 'completed').length;
    const cancelled = ended.filter((order) => order.status === 'cancelled');
    expect(completed).toBe(4);
    expect(cancelled.map((order) => order.cancellation_reason).sort()).toEqual(['payment_declined', 'shipping_failed']);

    await eventually('sum(order_sagas_ended_total{order_status="completed"})', (r) => scalar(r) === completed);
    await eventually('sum(order_sagas_ended_total{order_status="cancelled"})', (r) => scalar(r) === cancelled.length);
    const reasons = await query('sum by (cancellation_reason) (order_sagas_ended_total{order_status="cancelled"})');
    expect(Object.fromEntries(reasons.map((s) => [s.metric.cancellation_reason, Number(s.value[1])]))).toEqual({ payment_declined: 1, shipping_failed: 1 });

    const deadLetters = await eventually('sum by (job, reason) (dead_letters_total)', (r) => r.length > 0);
    expect(deadLetters.map((s) => ({ ...s.metric, n: Number(s.value[1]) }))).toEqual([{ job: 'shipping-service', reason: 'unparseable', n: 1 }]);

    await eventually('sum(order_saga_duration_seconds_count)', (r) => scalar(r) === ended.length);
    // Over the counts since start: a rate() may see no increase yet (a series is born with its first observations in it).
    const p99 = await eventually('histogram_quantile(0.99, sum by (le) (order_saga_duration_seconds_bucket))', (r) => Number.isFinite(scalar(r)));
    expect(scalar(p99)).toBeGreaterThan(0);

    await eventually('sum(http_server_request_duration_seconds_count{job="order-service",http_route="/orders",http_request_method="POST",http_response_status_code="202"})', (r) => scalar(r) === placed.length);
    await eventually('sum(payment_provider_request_duration_seconds_count{operation="charge",outcome="declined"})', (r) => scalar(r) === 1);
    await eventually('sum(payment_provider_request_duration_seconds_count{operation="refund",outcome="success"})', (r) => scalar(r) === 1);
    await eventually('sum(http_server_request_duration_seconds_count{job="payment-provider",http_route="/refunds"})', (r) => scalar(r) >= 1);
    await eventually('sum(messaging_client_consumed_messages_total{job="inventory-service",event_type="payment.refunded"})', (r) => scalar(r) === 1);
    expect(scalar(await query('sum(circuit_breaker_state)'))).toBe(0);
    expect(scalar(await query('sum(outbox_unpublished_events)'))).toBe(0);
    expect(scalar(await query('count(up == 1)'))).toBe(ALL_PROCESSES.length);
  });

  it('when the alert rules are loaded, then Prometheus reads every rule as healthy', async () => {
    expect(existsSync(RULES), `${RULES} is missing`).toBe(true);
    const response = await fetch(`${prometheusUrl}/api/v1/rules`);
    const { data } = (await response.json()) as { data: { groups: { name: string; rules: { name: string; health: string; state?: string }[] }[] } };
    const rules = data.groups.flatMap((group) => group.rules);
    expect(rules.length).toBeGreaterThan(5);
    expect(rules.filter((rule) => rule.health !== 'ok' && rule.health !== 'unknown')).toEqual([]);
  });

  it('when a PromQL expression is read, then only its metric names are taken, not calls, labels, strings, ranges or variables', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.99, sum by (le, job) (rate(order_saga_duration_seconds_bucket{job=~"$service", x="a b"}[$__rate_interval]))) > on (job) group_left up offset 5m or vector(0)',
      ).sort(),
    ).toEqual(['order_saga_duration_seconds_bucket', 'up']);
  });

  it('when the dashboard and the alert rules are read, then every metric their PromQL names is exported by a service or by Prometheus', async () => {
    const exported = new Set(['up', 'ALERTS', 'ALERTS_FOR_STATE', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_series_added']);
    for (const name of ALL_PROCESSES) {
      const text = await (await fetch(`${stack.metricsUrl(name)}/metrics`)).text();
      for (const [, metric, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exported.add(metric!);
        if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${metric}${suffix}`);
        if (type === 'summary') for (const suffix of ['_sum', '_count']) exported.add(`${metric}${suffix}`);
      }
    }
    expect(existsSync(DASHBOARDS), `${DASHBOARDS} is missing`).toBe(true);
    const dashboardExprs = readdirSync(DASHBOARDS)
      .filter((file) => file.endsWith('.json'))
      .flatMap((file) => exprsOfDashboard(JSON.parse(readFileSync(path.join(DASHBOARDS, file), 'utf8'))));
    expect(dashboardExprs.length).toBeGreaterThan(10);
    // The rules as Prometheus parsed them: each rule's query, whatever the YAML layout.
    const { data } = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { query: string }[] }[] } };
    const ruleExprs = data.groups.flatMap((group) => group.rules.map((rule) => rule.query));
    expect(ruleExprs.length).toBeGreaterThan(5);

    const unknown = [...dashboardExprs, ...ruleExprs].flatMap((expr) => metricNamesOf(expr).filter((name) => !exported.has(name)).map((name) => `${name} in ${expr}`));
    expect(unknown).toEqual([]);
  });
});

/** Every `expr` of a Grafana dashboard's panels, rows' panels included. */
function exprsOfDashboard(dashboard: { panels?: unknown[] }): string[] {
  const exprs: string[] = [];
  const walk = (panels: unknown[] | undefined) => {
    for (const panel of panels ?? []) {
      const p = panel as { targets?: { expr?: string }[]; panels?: unknown[] };
      for (const target of p.targets ?? []) if (target.expr) exprs.push(target.expr);
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return exprs;
}

const PROMQL_WORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan',
]);

/** The metric names a PromQL expression selects: identifiers that are neither calls, keywords, labels, strings, durations nor Grafana variables. */
function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:])(\s*\()?/g)) {
    const [, name, call] = match;
    if (call || PROMQL_WORDS.has(name!.toLowerCase()) || /^\d/.test(name!)) continue;
    names.add(name!);
  }
  return [...names];
}
