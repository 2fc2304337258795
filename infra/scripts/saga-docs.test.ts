import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../shared/contracts/events.js';
import { repoPath } from '../../shared/startup/repo-path.js';
import { blocksIn, DOCUMENTS_WITH_BLOCKS, renderDiagram, renderEventTable, withGeneratedBlocks } from './saga-docs.js';

describe('documentation generated from the saga declaration', () => {
  it.each(DOCUMENTS_WITH_BLOCKS)('when %s is read, then its event table and diagram match the declaration (run npm run docs)', (document) => {
    const text = readFileSync(repoPath(document), 'utf8');
    expect(blocksIn(text).sort()).toEqual(['diagram', 'event-table']);
    expect(withGeneratedBlocks(text)).toBe(text);
  });

  it('when the table is rendered, then every event has one row naming its publisher', () => {
    const rows = renderEventTable().split('\n').slice(2);
    expect(rows).toHaveLength(EVENT_TYPES.length);
    expect(rows[0]).toMatch(/^\| `order\.created` \| 1 \| order-service \| inventory-service \(step\): /);
  });

  it('when a block is stale, then rendering replaces it and leaves the rest alone', () => {
    const stale = 'before\n<!-- saga:diagram -->\nold\n<!-- /saga:diagram -->\nafter';
    expect(withGeneratedBlocks(stale)).toBe(`before\n<!-- saga:diagram -->\n${renderDiagram()}\n<!-- /saga:diagram -->\nafter`);
  });
});
