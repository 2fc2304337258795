import { EVENT_TYPES, eventVersion, saga, subscribersOf } from '../../shared/contracts/events.js';
import { SAGA_SERVICES, type Subscription } from '../../shared/contracts/saga.js';
import { lanesOf, sagaBindingsOf } from '../../shared/messaging/service-topology.js';
import { topologyNames } from '../../shared/messaging/topology-names.js';

/**
 * The parts of the documentation that are generated from the saga declaration
 * (shared/contracts/saga.ts): the event table, the flow diagram and each service's queues (the
 * lanes and what is bound to them). Each sits in a document between
 * `<!-- saga:NAME -->` and `<!-- /saga:NAME -->`; `npm run docs` rewrites them, and a unit test
 * fails when a document drifts from the declaration.
 */
export const GENERATED_BLOCKS = {
  'event-table': renderEventTable,
  diagram: renderDiagram,
  queues: renderQueueTable,
} as const;

export type BlockName = keyof typeof GENERATED_BLOCKS;

/** The documents that carry generated blocks, relative to the repository root. */
export const DOCUMENTS_WITH_BLOCKS = ['README.md', 'docs/architecture.md'] as const;

function subscriptionOf(type: (typeof EVENT_TYPES)[number], service: string): Subscription {
  return (saga[type].subscribers as Record<string, Subscription>)[service]!;
}

/** One row per event: version, publisher, and each subscriber with its handler's role. */
export function renderEventTable(): string {
  const lines = ['| event (routing key) | v | published by | reacted to by (role: what it does) |', '|---|---|---|---|'];
  for (const type of EVENT_TYPES) {
    const reactions = subscribersOf(type).map((service) => {
      const { role, does } = subscriptionOf(type, service);
      return `${service} (${role}): ${does}`;
    });
    lines.push(`| \`${type}\` | ${eventVersion(type)} | ${saga[type].publisher} | ${reactions.join('<br>')} |`);
  }
  return lines.join('\n');
}

const nodeId = (service: string) => service.replace(/-service$/, '');

/** A Mermaid flowchart: an arrow per event and subscriber; compensations dotted. */
export function renderDiagram(): string {
  const lines = ['```mermaid', 'flowchart LR'];
  const services = [...new Set(EVENT_TYPES.flatMap((type) => [saga[type].publisher, ...subscribersOf(type)]))];
  for (const service of services) lines.push(`  ${nodeId(service)}[${service}]`);
  for (const type of EVENT_TYPES) {
    for (const service of subscribersOf(type)) {
      const arrow = subscriptionOf(type, service).role === 'step' ? '-->' : '-.->';
      lines.push(`  ${nodeId(saga[type].publisher)} ${arrow}|${type}| ${nodeId(service)}`);
    }
  }
  lines.push('```', '', 'Solid arrows are steps; dotted arrows are compensations.');
  return lines.join('\n');
}

/** One row per queue a saga service consumes: its lane and the events bound to it. */
export function renderQueueTable(): string {
  const names = topologyNames('');
  const lines = ['| queue | lane | bound to (routing keys) |', '|---|---|---|'];
  for (const service of SAGA_SERVICES) {
    const bindings = sagaBindingsOf(service);
    for (const lane of lanesOf(bindings)) {
      lines.push(`| \`${names.queue(service, lane)}\` | ${lane} | ${bindings[lane].map((key) => `\`${key}\``).join(', ')} |`);
    }
  }
  return lines.join('\n');
}

const blockPattern = (name: string) => new RegExp(`(<!-- saga:${name} -->)[\\s\\S]*?(<!-- /saga:${name} -->)`, 'g');

/** `text` with every generated block it holds rendered afresh. */
export function withGeneratedBlocks(text: string): string {
  let out = text;
  for (const [name, render] of Object.entries(GENERATED_BLOCKS)) {
    out = out.replace(blockPattern(name), (_all, open: string, close: string) => `${open}\n${render()}\n${close}`);
  }
  return out;
}

/** The names of the generated blocks `text` holds. */
export function blocksIn(text: string): BlockName[] {
  return (Object.keys(GENERATED_BLOCKS) as BlockName[]).filter((name) => blockPattern(name).test(text));
}
