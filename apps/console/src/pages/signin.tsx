import { useState } from 'preact/hooks';
import { api } from '../api';
import { toApiError } from '../data';
import { saveSession, type Principal, type Session } from '../session';
import { ErrorNote } from '../ui';
import type { ApiError } from '../api';

/**
 * Sign in with a service token. Single sign-on adds a second way here ("Sign in with your
 * organisation"): it ends the same way, with a Session holding a Bearer token.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const principal = await api<Principal>('/v1/me', { token: token.trim() });
      const session: Session = { token: token.trim(), method: 'service-token', principal };
      saveSession(session);
      onSignedIn(session);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <h1>Sign in to the runbooks console</h1>
      <form onSubmit={submit} aria-describedby="signin-hint">
        <div class="field">
          <label for="token">Service token</label>
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="off"
            required
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
          <p class="hint" id="signin-hint">
            The Bearer token of your principal. It is kept in this browser tab only (sessionStorage) and sent with each API call.
          </p>
        </div>
        <ErrorNote error={error} label="Sign-in failed" />
        <button type="submit" disabled={busy || !token.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
