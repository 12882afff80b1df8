import { type FormEvent, useState } from 'react';
import type { Me } from '../app';
import { api, type Schemas, unwrap } from '../api/client';
import { keys, queryClient, useTokens, useWebhooks } from '../api/queries';
import { useQuery } from '@tanstack/react-query';
import { Badge, ErrorNote, Loading, Section, TableBox } from '../components/ui';
import { fmtAgo, fmtTime } from '../lib/format';
import { needs } from '../lib/roles';

/** Tokens and webhooks: admin only (the page says so to everyone else). */
export function AdminPage({ me }: { me: Me }) {
  const denied = needs(me.role, 'admin');
  return (
    <>
      <h1>Admin</h1>
      {denied ? (
        <p className="note">
          <span aria-hidden="true">🔒 </span>
          {denied} Tokens and webhooks are managed by admins.
        </p>
      ) : (
        <>
          <Tokens me={me} />
          <Webhooks />
        </>
      )}
    </>
  );
}

function Tokens({ me }: { me: Me }) {
  const tokens = useTokens(true);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Schemas['CreateTokenDto']['role']>('viewer');
  const [lifetimeDays, setLifetimeDays] = useState('90');
  const [created, setCreated] = useState<Schemas['CreatedTokenDto'] | null>(null);
  const [error, setError] = useState<unknown>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const expiresAt = lifetimeDays ? new Date(Date.now() + Number(lifetimeDays) * 86_400_000).toISOString() : undefined;
      setCreated(unwrap(await api.POST('/api/v1/tokens', { body: { name, role, expiresAt } })));
      setName('');
    } catch (err) {
      setError(err);
    }
    void queryClient.invalidateQueries({ queryKey: keys.tokens });
  }

  async function revoke(t: Schemas['TokenDto']) {
    if (!window.confirm(`Revoke token ${t.name} (${t.role})? Anything using it stops working.`)) return;
    setError(null);
    try {
      unwrap(await api.DELETE('/api/v1/tokens/{id}', { params: { path: { id: t.id } } }));
    } catch (err) {
      setError(err);
    }
    void queryClient.invalidateQueries({ queryKey: keys.tokens });
  }

  return (
    <Section title="API tokens">
      <form className="inline-form" onSubmit={create}>
        <label>
          Name <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Role{' '}
          <select
            value={role}
            onChange={(e) => {
              const next = e.target.value as typeof role;
              setRole(next);
              // An agent that loses its token stops voting: agent tokens do not expire unless asked.
              if (next === 'agent') setLifetimeDays('');
            }}
          >
            <option value="viewer">viewer</option>
            <option value="operator">operator</option>
            <option value="admin">admin</option>
            <option value="agent">agent</option>
          </select>
        </label>
        <label>
          Expires{' '}
          <select value={lifetimeDays} onChange={(e) => setLifetimeDays(e.target.value)}>
            <option value="1">in 1 day</option>
            <option value="30">in 30 days</option>
            <option value="90">in 90 days</option>
            <option value="365">in a year</option>
            <option value="">never</option>
          </select>
        </label>
        <button type="submit">Create token</button>
      </form>
      {created && (
        <p className="note" role="status">
          Token <strong>{created.name}</strong> ({created.role}) created. Copy it now, it is not shown again: <code className="secret">{created.token}</code>
        </p>
      )}
      <ErrorNote error={error} />
      {tokens.isPending ? (
        <Loading what="tokens" />
      ) : tokens.isError ? (
        <ErrorNote error={tokens.error} />
      ) : (
        <TableBox label="Tokens">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.items.map((t) => (
                <tr key={t.id}>
                  <th scope="row">{t.name}</th>
                  <td>{t.role}</td>
                  <td>
                    {fmtAgo(t.createdAt)} by {t.createdBy}
                  </td>
                  <td>{t.lastUsedAt ? fmtAgo(t.lastUsedAt) : 'never'}</td>
                  <td>{t.expiresAt ? fmtAgo(t.expiresAt) : 'never'}</td>
                  <td>
                    {t.revokedAt ? (
                      <Badge tone="muted">revoked {fmtAgo(t.revokedAt)}</Badge>
                    ) : t.expiresAt && Date.parse(t.expiresAt) <= Date.now() ? (
                      <Badge tone="muted">expired</Badge>
                    ) : (
                      <Badge tone="ok">active</Badge>
                    )}
                  </td>
                  <td>
                    {!t.revokedAt && (
                      <button
                        type="button"
                        className="danger"
                        disabled={t.id === me.tokenId}
                        title={t.id === me.tokenId ? 'This is the token you are signed in with' : undefined}
                        onClick={() => void revoke(t)}
                      >
                        Revoke<span className="sr-only"> {t.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
    </Section>
  );
}

function Webhooks() {
  const hooks = useWebhooks(true);
  const [url, setUrl] = useState('');
  const [cluster, setCluster] = useState('');
  const [created, setCreated] = useState<Schemas['CreatedWebhookDto'] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [openId, setOpenId] = useState<string | null>(null);

  async function create(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      setCreated(unwrap(await api.POST('/api/v1/webhooks', { body: { url, cluster: cluster || undefined } })));
      setUrl('');
    } catch (err) {
      setError(err);
    }
    void queryClient.invalidateQueries({ queryKey: keys.webhooks });
  }

  async function remove(w: Schemas['WebhookDto']) {
    if (!window.confirm(`Delete the webhook to ${w.url}?`)) return;
    setError(null);
    try {
      unwrap(await api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id: w.id } } }));
    } catch (err) {
      setError(err);
    }
    void queryClient.invalidateQueries({ queryKey: keys.webhooks });
  }

  return (
    <Section title="Webhooks">
      <form className="inline-form" onSubmit={create}>
        <label>
          URL <input type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://hooks.example.com/vigil" />
        </label>
        <label>
          Cluster <input value={cluster} onChange={(e) => setCluster(e.target.value)} placeholder="all clusters" />
        </label>
        <button type="submit">Create webhook</button>
      </form>
      {created && (
        <p className="note" role="status">
          Webhook created. Its signing secret is shown once: <code className="secret">{created.secret}</code>
        </p>
      )}
      <ErrorNote error={error} />
      {hooks.isPending ? (
        <Loading what="webhooks" />
      ) : hooks.isError ? (
        <ErrorNote error={hooks.error} />
      ) : hooks.data.items.length === 0 ? (
        <p className="muted">No webhooks.</p>
      ) : (
        <ul className="history">
          {hooks.data.items.map((w) => (
            <li key={w.id}>
              <span className="mono">{w.url}</span> · {w.cluster ?? 'all clusters'} · {w.types?.join(', ') ?? 'all events'} · created {fmtAgo(w.createdAt)}{' '}
              <button type="button" aria-expanded={openId === w.id} onClick={() => setOpenId(openId === w.id ? null : w.id)}>
                Deliveries
              </button>{' '}
              <button type="button" className="danger" onClick={() => void remove(w)}>
                Delete<span className="sr-only"> webhook {w.url}</span>
              </button>
              {openId === w.id && <Deliveries id={w.id} />}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function Deliveries({ id }: { id: string }) {
  const log = useQuery({
    queryKey: [...keys.webhooks, id, 'deliveries'],
    queryFn: async () => unwrap(await api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id } } })),
  });
  if (log.isPending) return <Loading what="deliveries" />;
  if (log.isError) return <ErrorNote error={log.error} />;
  if (log.data.items.length === 0) return <p className="muted small">Nothing delivered yet.</p>;
  return (
    <TableBox label="Deliveries">
      <table className="small">
        <thead>
          <tr>
            <th scope="col">At</th>
            <th scope="col">Event</th>
            <th scope="col">Attempt</th>
            <th scope="col">Outcome</th>
            <th scope="col">HTTP</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {log.data.items.map((d) => (
            <tr key={d.id}>
              <td>{fmtTime(d.at)}</td>
              <td>{d.eventId}</td>
              <td>{d.attempt}</td>
              <td>{d.outcome}</td>
              <td>{d.statusCode ?? '–'}</td>
              <td>{d.error ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  );
}
