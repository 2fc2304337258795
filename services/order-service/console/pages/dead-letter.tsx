import { useState } from 'preact/hooks';
import { ApiError, post } from '../api.js';
import { time } from '../format.js';
import { useLive } from '../live.js';
import { href } from '../route.js';

/** A dead letter as `GET /admin/dead-letters/:id` shows it: the body with its secrets masked. */
export interface DeadLetterView {
  id: string;
  service: string;
  queue: string;
  routing_key: string | null;
  event_type: string | null;
  message_id: string | null;
  reason: string;
  error: string | null;
  dead_lettered_at: string;
  replay_count: number;
  last_replayed_at: string | null;
  body: string | null;
  body_base64: string | null;
}

type Action = 'replay' | 'purge';

/** The body as an operator reads it: JSON indented, other text as it is, binary as its size. */
function readable(letter: DeadLetterView): string {
  if (letter.body === null) return `(binary, ${Math.floor(((letter.body_base64 ?? '').length * 3) / 4)} bytes)`;
  try {
    return JSON.stringify(JSON.parse(letter.body), null, 2);
  } catch {
    return letter.body;
  }
}

/**
 * One dead letter: where it came from, why it died, how often it was replayed, and its body with
 * secrets masked by the server; replay it (sent back to its queue once, the replay recorded under
 * the admin's name) or purge it, each after a confirmation.
 */
export function DeadLetter({ id }: { id: string }) {
  const letter = useLive<DeadLetterView>(`/admin/dead-letters/${encodeURIComponent(id)}`);
  const [pending, setPending] = useState<Action | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const act = async () => {
    const action = pending;
    setPending(null);
    try {
      if (action === 'replay') {
        const replayed = await post<DeadLetterView>(`/admin/dead-letters/${encodeURIComponent(id)}/replay`);
        setOutcome(`Replayed: sent back to ${replayed.queue} (replay ${replayed.replay_count}).`);
      } else {
        await post(`/admin/dead-letters/purge`, { ids: [id] });
        setOutcome('Purged: the letter is kept for audit only and shows nowhere else.');
      }
    } catch (error) {
      setOutcome(error instanceof ApiError ? `Nothing done: ${error.message}` : 'Nothing done.');
    }
    letter.refresh();
  };
  // Purged (here or elsewhere): the server no longer shows it.
  const view = letter.error?.status === 404 ? undefined : letter.data;
  return (
    <section aria-labelledby="letter-title">
      <p>
        <a href={href.deadLetters()}>← Dead letters</a>
      </p>
      <h1 id="letter-title">
        Dead letter <span class="mono">{id}</span>
      </h1>
      {outcome && <p role="status">{outcome}</p>}
      {letter.error && (
        <p class="error" role="alert">
          {letter.error.status === 404 ? 'No such dead letter (it may have been purged).' : letter.error.message}
        </p>
      )}
      {!view && !letter.error && <p>Loading…</p>}
      {view && (
        <>
          <dl class="facts">
            <dt>Service</dt>
            <dd>{view.service}</dd>
            <dt>Event</dt>
            <dd>{view.event_type ?? 'unknown'}</dd>
            <dt>Reason</dt>
            <dd>{view.reason}</dd>
            <dt>Error</dt>
            <dd>{view.error ?? '—'}</dd>
            <dt>Dead-lettered</dt>
            <dd>{time(view.dead_lettered_at)}</dd>
            <dt>Queue</dt>
            <dd class="mono">{view.queue}</dd>
            <dt>Routing key</dt>
            <dd class="mono">{view.routing_key ?? '—'}</dd>
            <dt>Message id</dt>
            <dd class="mono">{view.message_id ?? '—'}</dd>
            <dt>Replays</dt>
            <dd>{view.replay_count === 0 ? 'never replayed' : `${view.replay_count}, last ${time(view.last_replayed_at)}`}</dd>
          </dl>
          {pending ? (
            <div class="confirm" role="alertdialog" aria-labelledby="letter-confirm">
              <p id="letter-confirm">
                {pending === 'replay' ? 'Replay this letter? It is sent back to its queue once.' : 'Purge this letter? Purged letters are gone for good.'}
              </p>
              <button type="button" class={pending === 'purge' ? 'danger' : ''} onClick={act}>
                Yes, {pending} it
              </button>
              <button type="button" onClick={() => setPending(null)}>
                No
              </button>
            </div>
          ) : (
            <p class="actions">
              <button type="button" onClick={() => setPending('replay')}>
                Replay
              </button>
              <button type="button" class="danger" onClick={() => setPending('purge')}>
                Purge
              </button>
            </p>
          )}
          <h2 id="letter-body">Body</h2>
          <p class="help">Payment sources, tokens and keys are masked; a replay sends the letter as it was received.</p>
          <pre class="body" aria-labelledby="letter-body" tabIndex={0}>
            {readable(view)}
          </pre>
        </>
      )}
    </section>
  );
}
