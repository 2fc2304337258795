import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROCESSES, ProcessStack, freePorts } from '../support/process-stack.js';
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
  const port = (await freePorts(1))[0]!;
  prometheusUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    PROMETHEUS,
    [`--config.file=${path.join(dataDir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dataDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  prometheus.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<never>((_, reject) =>
    prometheus!.once('exit', (code, signal) => reject(new Error(`prometheus exited (${code ?? signal}) before it was ready: ${stderr}`))),
  );
  exited.catch(() => undefined);
  await Promise.race([
    exited,
    waitFor(async () => (await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined))?.ok, { timeoutMs: 30_000, intervalMs: 100, what: 'prometheus to be ready' }).catch((error: Error) => {
      throw new Error(`${error.message}; its log: ${stderr}`);
    }),
  ]);
  // Every service a target of its own job, scraped and up.
  let targets: { labels: { job: string }; health: string; lastError: string }[] = [];
  await waitFor(
    async () => {
      const body = (await (await fetch(`${prometheusUrl}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: typeof targets } };
      targets = body.data.activeTargets;
      return targets.length === ALL_PROCESSES.length && targets.every((target) => target.health === 'up');
    },
    { timeoutMs: 20_000, intervalMs: 250, what: 'every target up' },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; targets: ${JSON.stringify(targets.map((t) => ({ job: t.labels.job, health: t.health, lastError: t.lastError })))}`);
  });
  expect(targets.map((target) => target.labels.job).sort()).toEqual([...ALL_PROCESSES].sort());
});

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
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
    const normal = () => api.place(orderBody({ items: [{ sku: 'MUG-LOGO', quantity: 1 }] }));
    // One saga ends and is scraped before the others: its histogram series then grows under
    // Prometheus's eyes, so a rate() over it has an increase to see (a series is born with its first
    // observations in it, and rate() counts no increase from nothing).
    const first = await normal();
    ended.push(await api.settled(first.id, 30_000));
    await eventually('sum(order_saga_duration_seconds_count)', (r) => scalar(r) === 1);

    const placed = [
      first,
      ...(await Promise.all([
        ...Array.from({ length: 3 }, normal),
        api.place(orderBody({ items: [{ sku: 'BOOK-SAGAS', quantity: 1 }], payment_source: 'tok_chargeDeclined' })),
        api.place(orderBody({ items: [{ sku: 'LAMP-DESK', quantity: 1 }], shipping_address: { ...orderBody().shipping_address, country: 'AQ' } })),
      ])),
    ];
    // Poison: bytes that are not JSON, straight into shipping-service's step queue.
    await stack.broker.sendToQueue(stack.broker.names.queue('shipping-service'), 'this is not an event');
    for (const order of placed.slice(1)) ended.push(await api.settled(order.id, 30_000));

    const completed = ended.filter((order) => order.status === 'completed').length;
    const cancelled = ended.filter((order) => order.status === 'cancelled');
    expect(completed).toBe(4);
    expect(cancelled.map((order) => order.cancellation_reason).sort()).toEqual(['payment_declined', 'shipping_failed']);

    // Saga endings, as the API reports them.
    await eventually('sum(order_sagas_ended_total{order_status="completed"})', (r) => scalar(r) === completed);
    await eventually('sum(order_sagas_ended_total{order_status="cancelled"})', (r) => scalar(r) === cancelled.length);
    const reasons = await query('sum by (cancellation_reason) (order_sagas_ended_total{order_status="cancelled"})');
    expect(Object.fromEntries(reasons.map((s) => [s.metric.cancellation_reason, Number(s.value[1])]))).toEqual({ payment_declined: 1, shipping_failed: 1 });

    // Exactly one dead letter: the poison, by its service and reason.
    const deadLetters = await eventually('sum by (job, reason) (dead_letters_total)', (r) => r.length > 0);
    expect(deadLetters.map((s) => ({ ...s.metric, n: Number(s.value[1]) }))).toEqual([{ job: 'shipping-service', reason: 'unparseable', n: 1 }]);
    await eventually('sum(messaging_process_duration_seconds_count{job="shipping-service",outcome="dead_letter"})', (r) => scalar(r) === 1);

    // The saga latency histogram: one observation per ended order, and a finite p99 both since
    // start and as the dashboard asks it (over a rate).
    await eventually('sum(order_saga_duration_seconds_count)', (r) => scalar(r) === ended.length);
    const p99 = await eventually('histogram_quantile(0.99, sum by (le) (order_saga_duration_seconds_bucket))', (r) => Number.isFinite(scalar(r)));
    expect(scalar(p99)).toBeGreaterThan(0);
    const p99Rate = await eventually('histogram_quantile(0.99, sum by (le) (rate(order_saga_duration_seconds_bucket[1m])))', (r) => Number.isFinite(scalar(r)));
    expect(scalar(p99Rate)).toBeGreaterThan(0);

    // HTTP and provider calls.
    await eventually('sum(http_server_request_duration_seconds_count{job="order-service",http_route="/orders",http_request_method="POST",http_response_status_code="202"})', (r) => scalar(r) === placed.length);
    await eventually('sum(payment_provider_request_duration_seconds_count{operation="charge"})', (r) => scalar(r) >= placed.length);
    await eventually('sum(payment_provider_request_duration_seconds_count{operation="charge",outcome="declined"})', (r) => scalar(r) === 1);
    await eventually('sum(payment_provider_request_duration_seconds_count{operation="refund",outcome="success"})', (r) => scalar(r) === 1);
    await eventually('sum(http_server_request_duration_seconds_count{job="payment-provider",http_route="/refunds"})', (r) => scalar(r) >= 1);
    await eventually('sum(messaging_client_consumed_messages_total{job="inventory-service",event_type="payment.refunded"})', (r) => scalar(r) === 1);

    // Health: every job up, the breaker closed, the outboxes empty.
    const up = await query('up');
    expect(Object.fromEntries(up.map((s) => [s.metric.job, Number(s.value[1])]))).toEqual(Object.fromEntries(ALL_PROCESSES.map((name) => [name, 1])));
    const breakers = await query('circuit_breaker_state');
    expect(
      breakers.map((s) => ({ job: s.metric.job, breaker: s.metric.breaker, state: Number(s.value[1]) })).sort((a, b) => a.breaker!.localeCompare(b.breaker!)),
    ).toEqual(['charge', 'lookup', 'refund'].map((operation) => ({ job: 'payment-service', breaker: `payment-provider-${operation}`, state: 0 })));
    await eventually('sum(outbox_unpublished_events)', (r) => scalar(r) === 0);
  });

  it('when the alert rules are loaded, then Prometheus reads every rule of the file and evaluates each as healthy', async () => {
    expect(existsSync(RULES), `${RULES} is missing (the alert rules are loaded from it)`).toBe(true);
    const declared = [...readFileSync(RULES, 'utf8').matchAll(/^\s*-\s*(?:alert|record)\s*:/gm)].length;
    let rules: PrometheusRule[] = [];
    await waitFor(
      async () => {
        rules = (await prometheusRules()).flatMap((group) => group.rules);
        return rules.length > 0 && rules.every((rule) => rule.health === 'ok');
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'every rule evaluated' },
    ).catch((error: Error) => {
      const unhealthy = rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);
      throw new Error(`${error.message}; ${rules.length} rules, not ok: ${JSON.stringify(unhealthy)}`);
    });
    expect(rules.length).toBe(declared);
    expect(rules.length).toBeGreaterThan(5);
  });

  it('when a PromQL expression is read, then only its metric names are taken, not calls, labels, strings, ranges, numbers or variables', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.99, sum by (le, job) (rate(order_saga_duration_seconds_bucket{job=~"$service", x="a b"}[$__rate_interval]))) > on (job) group_left up offset 5m or vector(0)',
      ).sort(),
    ).toEqual(['order_saga_duration_seconds_bucket', 'up']);
    expect(
      metricNamesOf(
        'sum(rate(a_total[5m])) by (job) / ignoring(reason) group_right b_total > 1e-3 and bool c unless label_replace(d, "dst", "$1", "src", "(.*)") # e_total\n  or sum without (instance) (f)',
      ).sort(),
    ).toEqual(['a_total', 'b_total', 'c', 'd', 'f']);
  });

  it('when the dashboard and the alert rules are read, then every metric their PromQL names is exported by a service or by Prometheus', async () => {
    expect(existsSync(DASHBOARDS), `${DASHBOARDS} is missing (the Grafana dashboards are read from it)`).toBe(true);
    expect(existsSync(RULES), `${RULES} is missing (the alert rules are read from it)`).toBe(true);
    // What the services export (every family, whether or not it has a sample yet), and what
    // Prometheus makes itself: a target's scrape series and the alerts' state.
    const exported = new Set([
      'up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added', 'ALERTS', 'ALERTS_FOR_STATE',
    ]);
    for (const name of ALL_PROCESSES) {
      const text = await (await fetch(`${stack.metricsUrl(name)}/metrics`)).text();
      for (const [, metric, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exported.add(metric!);
        if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${metric}${suffix}`);
        if (type === 'summary') for (const suffix of ['_sum', '_count']) exported.add(`${metric}${suffix}`);
      }
    }
    expect(exported.size).toBeGreaterThan(40);

    const files = readdirSync(DASHBOARDS).filter((file) => file.endsWith('.json'));
    expect(files.length, `no dashboard JSON in ${DASHBOARDS}`).toBeGreaterThan(0);
    const dashboardExprs = files.flatMap((file) => exprsOfDashboard(JSON.parse(readFileSync(path.join(DASHBOARDS, file), 'utf8'))).map((expr) => ({ where: file, expr })));
    expect(dashboardExprs.length).toBeGreaterThan(10);
    // The rules as Prometheus parsed them from the file: each rule's query, whatever the YAML layout.
    const rules = (await prometheusRules()).flatMap((group) => group.rules);
    for (const rule of rules) if (rule.type === 'recording') exported.add(rule.name);
    const ruleExprs = rules.map((rule) => ({ where: `${path.basename(RULES)} ${rule.name}`, expr: rule.query }));
    expect(ruleExprs.length).toBeGreaterThan(5);

    const named = [...dashboardExprs, ...ruleExprs].map(({ where, expr }) => ({ where, expr, names: metricNamesOf(expr) }));
    expect(named.filter(({ names }) => names.length === 0).map(({ where, expr }) => `${where}: ${expr}`), 'expressions naming no metric').toEqual([]);
    const unknown = named.flatMap(({ where, expr, names }) => names.filter((name) => !exported.has(name)).map((name) => `${name} (${where}: ${expr})`));
    expect(unknown, 'metrics named by the dashboard or the rules that no service exports').toEqual([]);
  });
});

interface PrometheusRule {
  name: string;
  query: string;
  type: 'alerting' | 'recording';
  health: string;
  lastError?: string;
}

async function prometheusRules(): Promise<{ name: string; rules: PrometheusRule[] }[]> {
  const body = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: PrometheusRule[] }[] } };
  return body.data.groups;
}

/**
 * Every PromQL of a Grafana dashboard (or of a provisioning wrapper `{ dashboard }`): each panel's
 * targets' `expr`, rows' panels included, and the queries of its template variables
 * (`label_values(selector, label)`'s selector, `query_result(expr)`).
 */
function exprsOfDashboard(file: { dashboard?: unknown; panels?: unknown[]; templating?: unknown }): string[] {
  const dashboard = (file.dashboard ?? file) as { panels?: unknown[]; rows?: { panels?: unknown[] }[]; templating?: { list?: { type?: string; query?: unknown }[] } };
  const exprs: string[] = [];
  const walk = (panels: unknown[] | undefined) => {
    for (const panel of panels ?? []) {
      const p = panel as { targets?: { expr?: string }[]; panels?: unknown[] };
      for (const target of p.targets ?? []) if (target.expr) exprs.push(target.expr);
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  for (const row of dashboard.rows ?? []) walk(row.panels); // the old schema's rows
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query?: string } | undefined)?.query;
    const selector = query && (/^\s*label_values\(\s*(.+),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/.exec(query) ?? /^\s*query_result\((.+)\)\s*$/.exec(query));
    if (selector) exprs.push(selector[1]!);
  }
  return exprs;
}

/** PromQL's keywords and operators that read like identifiers (functions and aggregations are recognised by the `(` after them). */
const PROMQL_WORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2', 'inf', 'nan',
]);

/**
 * The metric names a PromQL expression selects: string literals, comments, label matchers
 * `{...}`, ranges `[...]`, label lists of `by`/`without`/`on`/`ignoring`/`group_left`/`group_right`
 * and Grafana variables are stripped; of the identifiers left, calls (followed by `(`), keywords and
 * the units of durations and numbers (`5m`, `1e3`) are not metric names.
 */
function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/#[^\n]*/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' ');
  const names = new Set<string>();
  for (const [, name, call] of stripped.matchAll(/(?<![\w.:$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    if (call || PROMQL_WORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names];
}
