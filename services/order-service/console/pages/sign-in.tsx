import { useState } from 'preact/hooks';
import { ApiError, get, session } from '../api.js';

/** Why a token was refused, in words an operator can act on. */
function refusal(error: unknown): string {
  if (!(error instanceof ApiError)) return 'The token could not be checked.';
  if (error.status === 403) return 'This token is not an admin’s: the console is for operators only. Sign in with an admin token (npm run token -- --admin).';
  if (error.status === 401) return `The token was refused: ${error.message}.`;
  if (error.status === 0) return 'The order API cannot be reached.';
  return `The token could not be checked: ${error.message}.`;
}

/**
 * Sign-in with an admin token: checked against an admin endpoint before it is kept (in this tab's
 * session storage only, forgotten when the tab closes or on sign-out).
 */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const value = token.trim().replace(/^Bearer\s+/i, '');
    if (!value) return setError('Paste an admin token first.');
    setBusy(true);
    try {
      await get('/admin/dead-letters?limit=1', value);
      session.signIn(value);
      onSignedIn();
    } catch (caught) {
      setError(refusal(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>Order platform console</h1>
      <form onSubmit={submit}>
        <label for="token">Admin token</label>
        <textarea
          id="token"
          name="token"
          rows={4}
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(event) => setToken((event.target as HTMLTextAreaElement).value)}
          aria-describedby={error ? 'token-error' : 'token-help'}
        />
        <p id="token-help" class="help">
          A JWT with the admin role: <code>npm run --silent token -- --admin</code>, or one of your identity provider. It stays in this tab only.
        </p>
        {error && (
          <p id="token-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
