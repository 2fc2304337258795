import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../shared/contracts/events.js';
import { repoPath } from '../../shared/startup/repo-path.js';
import { subscriptionsOf } from '../../shared/contracts/events.js';
import { SAGA_SERVICES } from '../../shared/contracts/saga.js';
import { blocksIn, DOCUMENTS_WITH_BLOCKS, renderDiagram, renderEventTable, renderQueueTable, withGeneratedBlocks } from './saga-docs.js';

describe('documentation generated from the saga declaration', () => {
  it.each(DOCUMENTS_WITH_BLOCKS)('when %s is read, then its event table, diagram and queue table match the declaration (run npm run docs)', (document) => {
    const text = readFileSync(repoPath(document), 'utf8');
    expect(blocksIn(text).sort()).toEqual(['diagram', 'event-table', 'queues']);
    expect(withGeneratedBlocks(text)).toBe(text);
  });

  it('when the table is rendered, then every event has one row naming its publisher', () => {
    const rows = renderEventTable().split('\n').slice(2);
    expect(rows).toHaveLength(EVENT_TYPES.length);
    expect(rows[0]).toMatch(/^\| `order\.created` \| 1 \| order-service \| inventory-service \(step\): /);
  });

  it('when the queue table is rendered, then each service has a step and a compensation lane, and each event it subscribes to is in one of them', () => {
    const rows = renderQueueTable().split('\n').slice(2);
    expect(rows).toHaveLength(SAGA_SERVICES.length * 2);
    expect(rows).toContain('| `shipping-service` | step | `payment.succeeded` |');
    expect(rows).toContain('| `shipping-service.compensation` | compensation | `order.cancel_requested` |');
    for (const service of SAGA_SERVICES) {
      const keys = rows.filter((row) => row.startsWith(`| \`${service}\``) || row.startsWith(`| \`${service}.`)).flatMap((row) => row.match(/`[a-z_]+\.[a-z_]+`/g) ?? []);
      expect(keys.map((key) => key.slice(1, -1)).sort(), service).toEqual([...subscriptionsOf(service)].sort());
    }
  });

  it('when a block is stale, then rendering replaces it and leaves the rest alone', () => {
    const stale = 'before\n<!-- saga:diagram -->\nold\n<!-- /saga:diagram -->\nafter';
    expect(withGeneratedBlocks(stale)).toBe(`before\n<!-- saga:diagram -->\n${renderDiagram()}\n<!-- /saga:diagram -->\nafter`);
  });
});
