import { useState } from 'preact/hooks';
import { ApiError, post } from '../api.js';
import { time } from '../format.js';
import { useLive } from '../live.js';

interface Group {
  service: string;
  event_type: string | null;
  reason: string;
  count: number;
  first_seen: string;
  last_seen: string;
}

type Action = 'replay' | 'purge';

const groupLabel = (group: Group) => `${group.service} · ${group.event_type ?? 'unknown event'} · ${group.reason}`;

/**
 * Dead letters in groups (service, event type, reason) with counts and first/last seen; a whole
 * group is replayed or purged after a confirmation, and the server records who did it.
 */
export function DeadLetters() {
  const groups = useLive<{ data: Group[] }>('/admin/dead-letters/groups');
  const [pending, setPending] = useState<{ action: Action; group: Group } | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const act = async () => {
    if (!pending) return;
    const { action, group } = pending;
    setPending(null);
    try {
      const body = { group: { service: group.service, event_type: group.event_type, reason: group.reason } };
      const answer = await post<{ replayed?: number; purged?: number }>(`/admin/dead-letters/${action}`, body);
      setOutcome(action === 'replay' ? `Replayed ${answer.replayed ?? 0} from ${groupLabel(group)}.` : `Purged ${answer.purged ?? 0} from ${groupLabel(group)}.`);
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
            {pending.action === 'replay' ? 'Replay' : 'Purge'} all {pending.group.count} of {groupLabel(pending.group)}?
            {pending.action === 'purge' ? ' Purged letters are gone for good.' : ' Each is sent back to its queue once.'}
          </p>
          <button type="button" class={pending.action === 'purge' ? 'danger' : ''} onClick={act}>
            Yes, {pending.action} them
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
              {groups.data.data.map((group) => (
                <tr data-group={groupLabel(group)}>
                  <td>{group.service}</td>
                  <td>{group.event_type ?? '—'}</td>
                  <td>{group.reason}</td>
                  <td class="number">{group.count}</td>
                  <td>{time(group.first_seen)}</td>
                  <td>{time(group.last_seen)}</td>
                  <td class="actions">
                    <button type="button" onClick={() => setPending({ action: 'replay', group })} aria-label={`Replay ${groupLabel(group)}`}>
                      Replay
                    </button>
                    <button type="button" class="danger" onClick={() => setPending({ action: 'purge', group })} aria-label={`Purge ${groupLabel(group)}`}>
                      Purge
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
