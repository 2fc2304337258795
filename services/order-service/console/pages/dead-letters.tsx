import { useState } from 'preact/hooks';
import { ApiError, post } from '../api.js';
import { time } from '../format.js';
import { useLive } from '../live.js';
import { href } from '../route.js';
import type { DeadLetterView } from './dead-letter.js';

interface Group {
  service: string;
  event_type: string | null;
  reason: string;
  count: number;
  first_seen: string;
  last_seen: string;
}

type Action = 'replay' | 'purge';
/** What an operator asked for and has yet to confirm: a whole group, or the letters picked in it. */
interface Pending {
  action: Action;
  group: Group;
  ids: string[] | null;
}

const groupLabel = (group: Group) => `${group.service} · ${group.event_type ?? 'unknown event'} · ${group.reason}`;
const groupKey = (group: Group) => JSON.stringify([group.service, group.event_type, group.reason]);
const letters = (n: number) => `${n} letter${n === 1 ? '' : 's'}`;

/** The letters a group counts (waiting: neither replayed nor purged), oldest first, up to 100. */
function lettersPath(group: Group): string {
  const query = new URLSearchParams({ service: group.service, event_type: group.event_type ?? '', reason: group.reason, waiting: 'true', limit: '100' });
  return `/admin/dead-letters?${query}`;
}

/**
 * Dead letters in groups (service, event type, reason) with counts and first/last seen. A group
 * opens to its letters, each linking to its own page; a whole group, or the letters picked in it,
 * is replayed or purged after a confirmation, and the server records who did it.
 */
export function DeadLetters() {
  const groups = useLive<{ data: Group[] }>('/admin/dead-letters/groups');
  const [open, setOpen] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const act = async () => {
    if (!pending) return;
    const { action, group, ids } = pending;
    setPending(null);
    try {
      const body = ids ? { ids } : { group: { service: group.service, event_type: group.event_type, reason: group.reason } };
      const answer = await post<{ replayed?: number; purged?: number; more: boolean }>(`/admin/dead-letters/${action}`, body);
      const done = action === 'replay' ? `Replayed ${answer.replayed ?? 0}` : `Purged ${answer.purged ?? 0}`;
      setOutcome(`${done} from ${groupLabel(group)}.${answer.more ? ' The group holds more: run it again for the rest.' : ''}`);
    } catch (error) {
      setOutcome(error instanceof ApiError ? `Nothing done: ${error.message}` : 'Nothing done.');
    }
    groups.refresh();
  };
  return (
    <section aria-labelledby="letters-title">
      <h1 id="letters-title">Dead letters</h1>
      {groups.error && (
        <p class="error" role="alert">
          {groups.error.message}
        </p>
      )}
      {outcome && <p role="status">{outcome}</p>}
      {pending && (
        <div class="confirm" role="alertdialog" aria-labelledby="letters-confirm">
          <p id="letters-confirm">
            {pending.action === 'replay' ? 'Replay' : 'Purge'} {pending.ids ? `the ${letters(pending.ids.length)} selected in` : `all ${pending.group.count} of`}{' '}
            {groupLabel(pending.group)}?
            {pending.action === 'purge' ? ' Purged letters are gone for good.' : ' Each is sent back to its queue once.'}
          </p>
          <button type="button" class={pending.action === 'purge' ? 'danger' : ''} onClick={act}>
            Yes, {pending.action} {pending.ids?.length === 1 ? 'it' : 'them'}
          </button>
          <button type="button" onClick={() => setPending(null)}>
            No
          </button>
        </div>
      )}
      {groups.data && groups.data.data.length === 0 && <p>No dead letters.</p>}
      {groups.data && groups.data.data.length > 0 && (
        <div class="scroll">
          <table class="groups">
            <caption class="visually-hidden">Dead letters by service, event type and reason, largest groups first</caption>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Event</th>
                <th scope="col">Reason</th>
                <th scope="col" class="number">Letters</th>
                <th scope="col">First seen</th>
                <th scope="col">Last seen</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {groups.data.data.map((group) => {
                const key = groupKey(group);
                const expanded = open === key;
                return [
                  <tr key={key} data-group={groupLabel(group)}>
                    <td>{group.service}</td>
                    <td>{group.event_type ?? '—'}</td>
                    <td>{group.reason}</td>
                    <td class="number">{group.count}</td>
                    <td>{time(group.first_seen)}</td>
                    <td>{time(group.last_seen)}</td>
                    <td class="actions">
                      <button
                        type="button"
                        aria-expanded={expanded}
                        aria-controls={expanded ? `letters-${encodeURIComponent(key)}` : undefined}
                        onClick={() => setOpen(expanded ? null : key)}
                        aria-label={`Letters of ${groupLabel(group)}`}
                      >
                        Letters
                      </button>
                      <button type="button" onClick={() => setPending({ action: 'replay', group, ids: null })} aria-label={`Replay ${groupLabel(group)}`}>
                        Replay
                      </button>
                      <button type="button" class="danger" onClick={() => setPending({ action: 'purge', group, ids: null })} aria-label={`Purge ${groupLabel(group)}`}>
                        Purge
                      </button>
                    </td>
                  </tr>,
                  expanded && (
                    <tr key={`${key}-letters`} class="group-letters">
                      <td colSpan={7} id={`letters-${encodeURIComponent(key)}`}>
                        <GroupLetters group={group} onAct={(action, ids) => setPending({ action, group, ids })} />
                      </td>
                    </tr>
                  ),
                ];
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** One group's letters with a checkbox each; the picked ones are replayed or purged together. */
function GroupLetters({ group, onAct }: { group: Group; onAct: (action: Action, ids: string[]) => void }) {
  const list = useLive<{ data: DeadLetterView[] }>(lettersPath(group));
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const shown = list.data?.data ?? [];
  // Letters replayed or purged meanwhile leave the list, and the selection with them.
  const selected = shown.filter((letter) => picked.has(letter.id)).map((letter) => letter.id);
  const toggle = (id: string) =>
    setPicked((now) => {
      const next = new Set(now);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  if (list.error) return <p class="error">{list.error.message}</p>;
  if (!list.data) return <p>Loading…</p>;
  const label = groupLabel(group);
  return (
    <fieldset class="picker">
      <legend>Letters of {label}</legend>
      {group.count > shown.length && <p class="help">The oldest {shown.length} of {group.count}.</p>}
      <label class="pick-all">
        <input
          type="checkbox"
          checked={shown.length > 0 && selected.length === shown.length}
          onChange={(event) => setPicked(new Set((event.currentTarget as HTMLInputElement).checked ? shown.map((letter) => letter.id) : []))}
        />{' '}
        Select all shown
      </label>
      <ul class="picked">
        {shown.map((letter) => (
          <li key={letter.id}>
            <input type="checkbox" id={`pick-${letter.id}`} checked={picked.has(letter.id)} onChange={() => toggle(letter.id)} aria-label={`Select letter ${letter.id}`} />{' '}
            <a class="mono" href={href.deadLetter(letter.id)}>
              {letter.id}
            </a>{' '}
            <span class="help">
              {time(letter.dead_lettered_at)}
              {letter.error ? ` · ${letter.error}` : ''}
            </span>
          </li>
        ))}
      </ul>
      <p class="actions">
        <button type="button" disabled={selected.length === 0} onClick={() => onAct('replay', selected)}>
          Replay selected ({selected.length})
        </button>
        <button type="button" class="danger" disabled={selected.length === 0} onClick={() => onAct('purge', selected)}>
          Purge selected ({selected.length})
        </button>
      </p>
    </fieldset>
  );
}
