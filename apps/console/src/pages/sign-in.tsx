import { type FormEvent, useState } from 'react';
import { api, ApiError, setToken } from '../api/client';
import { ErrorNote } from '../components/ui';

/** Sign-in with an API token; it is kept for this tab only (session storage). */
export function SignIn() {
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api.GET('/api/v1/whoami', { headers: { Authorization: `Bearer ${value.trim()}` } });
      if (!answer.response.ok) {
        const body = (answer.error ?? {}) as { error?: string; message?: string };
        throw new ApiError(answer.response.status, body.error ?? 'error', body.message ?? 'sign-in failed');
      }
      setToken(value.trim());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="sign-in" id="main">
      <h1>Vigil</h1>
      <p className="muted">High availability for Redis. Sign in with an API token (viewer, operator or admin).</p>
      <form onSubmit={submit}>
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="current-password" required value={value} onChange={(e) => setValue(e.target.value)} />
        <button type="submit" disabled={busy || value.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <ErrorNote error={error} />
      <p className="muted small">The token stays in this browser tab only and is forgotten when the tab closes.</p>
    </main>
  );
}
