import { duration, time } from '../format.js';
import { MinuteChart } from '../chart.js';
import { useLive } from '../live.js';
import { href } from '../route.js';

type BreakerState = 'closed' | 'half_open' | 'open';
interface Queue {
  queue: string;
  ready: number | null;
}
interface ServiceView {
  service: string;
  instances_up: number;
  instances: { instance: string; started_at: string; last_seen: string; up: boolean; paused_lanes: string[]; unacked: number; breakers: { name: string; state: BreakerState }[] }[];
  lanes: { lane: string; queue: string; ready: number | null; consumers: number | null; unacked: number; paused_instances: number }[];
  retry_queues: Queue[];
  dead_letter_queue: Queue;
  open_dead_letters: number;
  outbox: { unpublished: number | null; oldest_age_seconds: number | null };
  breakers: { name: string; state: BreakerState; open_instances: number }[];
  minutes: { start: string; handled: number; failed: number; p50_ms: number | null; p95_ms: number | null }[];
}

const count = (value: number | null) => (value === null ? '—' : String(value));
const sum = (queues: Queue[]) => (queues.some((queue) => queue.ready === null) ? null : queues.reduce((total, queue) => total + (queue.ready ?? 0), 0));
const STATE_WORDS: Record<BreakerState, string> = { closed: 'closed', half_open: 'half-open', open: 'open' };

/**
 * Every saga service's health, from the status reports its instances publish every few seconds:
 * instances up, its lanes' queues (ready, consumers, unacked), delay queues, dead letters, outbox
 * lag, circuit breakers and paused lanes, and the last 15 minutes of messages handled and their
 * handling time. Updates by itself.
 */
export function Services() {
  const services = useLive<{ data: ServiceView[] }>('/admin/services');
  return (
    <section aria-labelledby="services-title">
      <h1 id="services-title">Services</h1>
      {services.error && (
        <p class="error" role="alert">
          {services.error.message}
        </p>
      )}
      {!services.data && !services.error && <p>Loading…</p>}
      <div class="services">{services.data?.data.map((view) => <ServiceCard key={view.service} view={view} />)}</div>
    </section>
  );
}

function ServiceCard({ view }: { view: ServiceView }) {
  const id = `service-${view.service}`;
  const paused = view.lanes.filter((lane) => lane.paused_instances > 0);
  const last = view.minutes.at(-2) ?? view.minutes.at(-1);
  const minutes = view.minutes.map((minute) => Date.parse(minute.start));
  return (
    <article class="service" aria-labelledby={id}>
      <h2 id={id}>
        {view.service}{' '}
        <span class={`badge ${view.instances_up > 0 ? 'badge-completed' : 'badge-cancelled'}`}>
          {view.instances_up === 0 ? 'no instance up' : `${view.instances_up} instance${view.instances_up === 1 ? '' : 's'} up`}
        </span>
      </h2>
      {paused.map((lane) => (
        <p key={lane.lane} class="warning" role="status">
          The {lane.lane} lane is paused on {lane.paused_instances} of {view.instances_up} instance{view.instances_up === 1 ? '' : 's'}: a circuit its handlers need is open.
        </p>
      ))}
      {view.breakers.length > 0 && (
        <ul class="breakers" aria-label={`${view.service} circuit breakers`}>
          {view.breakers.map((breaker) => (
            <li key={breaker.name}>
              <span class="mono">{breaker.name}</span> <span class={`badge badge-circuit-${breaker.state}`}>{STATE_WORDS[breaker.state]}</span>
              {breaker.open_instances > 0 && view.instances_up > 1 && <span class="help"> open on {breaker.open_instances} of {view.instances_up}</span>}
            </li>
          ))}
        </ul>
      )}
      <div class="scroll">
        <table aria-label={`${view.service} queues`}>
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col" class="number">Ready</th>
              <th scope="col" class="number">Consumers</th>
              <th scope="col" class="number">Unacked</th>
            </tr>
          </thead>
          <tbody>
            {view.lanes.map((lane) => (
              <tr key={lane.queue}>
                <th scope="row">{lane.lane} lane</th>
                <td class="number">{count(lane.ready)}</td>
                <td class="number">{count(lane.consumers)}</td>
                <td class="number">{lane.unacked}</td>
              </tr>
            ))}
            <tr>
              <th scope="row">delay queues ({view.retry_queues.length})</th>
              <td class="number">{count(sum(view.retry_queues))}</td>
              <td class="number">—</td>
              <td class="number">—</td>
            </tr>
            <tr>
              <th scope="row">dead-letter queue</th>
              <td class="number">{count(view.dead_letter_queue.ready)}</td>
              <td class="number">—</td>
              <td class="number">—</td>
            </tr>
          </tbody>
        </table>
      </div>
      <dl class="facts">
        <dt>Dead letters waiting</dt>
        <dd>{view.open_dead_letters > 0 ? <a href={href.deadLetters()}>{view.open_dead_letters}</a> : '0'}</dd>
        <dt>Outbox</dt>
        <dd>
          {count(view.outbox.unpublished)} unpublished
          {view.outbox.oldest_age_seconds ? `, oldest ${duration(view.outbox.oldest_age_seconds * 1000)}` : ''}
        </dd>
      </dl>
      <div class="charts">
        <MinuteChart
          title="Messages per minute"
          unit="msg/min"
          minutes={minutes}
          series={[
            { label: 'handled', values: view.minutes.map((minute) => minute.handled), colour: '#0b57d0' },
            { label: 'failed', values: view.minutes.map((minute) => minute.failed), colour: '#b3261e', dashed: true },
          ]}
          summary={last ? `${last.handled} handled, ${last.failed} failed in the last full minute` : 'no figures yet'}
        />
        <MinuteChart
          title="Handling time"
          unit="ms"
          minutes={minutes}
          series={[
            { label: 'p50', values: view.minutes.map((minute) => minute.p50_ms), colour: '#0d5d2b' },
            { label: 'p95', values: view.minutes.map((minute) => minute.p95_ms), colour: '#6b4a00', dashed: true },
          ]}
          summary={last?.p95_ms != null ? `p50 ${duration(last.p50_ms ?? 0)}, p95 ${duration(last.p95_ms)} in the last full minute` : 'nothing handled in the last full minute'}
        />
      </div>
      <details>
        <summary>Instances ({view.instances.length})</summary>
        <div class="scroll">
          <table aria-label={`${view.service} instances`}>
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">State</th>
                <th scope="col">Started</th>
                <th scope="col">Last report</th>
                <th scope="col">Paused lanes</th>
                <th scope="col" class="number">Unacked</th>
              </tr>
            </thead>
            <tbody>
              {view.instances.map((instance) => (
                <tr key={instance.instance}>
                  <td class="mono">{instance.instance}</td>
                  <td>{instance.up ? 'up' : 'gone'}</td>
                  <td>{time(instance.started_at)}</td>
                  <td>{time(instance.last_seen)}</td>
                  <td>{instance.paused_lanes.join(', ') || '—'}</td>
                  <td class="number">{instance.unacked}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </article>
  );
}
