import { useSyncExternalStore } from 'react';
import { currentToken, onTokenChange, setToken } from './api/client';
import { LiveProvider } from './api/live';
import { queryClient, useWhoami } from './api/queries';
import { Banner } from './components/banner';
import { ErrorNote, Loading } from './components/ui';
import { href, useRoute } from './lib/router';
import { AdminPage } from './pages/admin';
import { AgentsPage } from './pages/agents';
import { ClusterPage } from './pages/cluster';
import { EventsPage } from './pages/events';
import { OverviewPage } from './pages/overview';
import { SignIn } from './pages/sign-in';

export type Me = { tokenId: string; name: string; role: string };

function useToken(): string | null {
  return useSyncExternalStore(onTokenChange, currentToken);
}

export function App() {
  const token = useToken();
  const me = useWhoami(token !== null);
  if (!token) return <SignIn />;
  if (me.isPending) return <Loading what="your identity" />;
  if (me.isError)
    return (
      <main className="page">
        <ErrorNote error={me.error} />
        <button type="button" onClick={() => setToken(null)}>
          Sign in again
        </button>
      </main>
    );
  return (
    <LiveProvider>
      <Shell me={me.data} />
    </LiveProvider>
  );
}

const NAV = [
  { path: '/', label: 'Clusters' },
  { path: '/agents', label: 'Agents' },
  { path: '/events', label: 'Events' },
  { path: '/admin', label: 'Admin' },
];

function Shell({ me }: { me: Me }) {
  const route = useRoute();
  const section = route.path[0] ?? '';
  const signOut = () => {
    setToken(null);
    queryClient.clear();
  };
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href={href('/')}>
          Vigil
        </a>
        <nav aria-label="Main">
          {NAV.map((item) => {
            const active = item.path === '/' ? section === '' || section === 'clusters' : section === item.path.slice(1);
            return (
              <a key={item.path} href={href(item.path)} aria-current={active ? 'page' : undefined}>
                {item.label}
              </a>
            );
          })}
        </nav>
        <div className="who">
          <span data-testid="whoami">
            {me.name} · <strong>{me.role}</strong>
          </span>
          <button type="button" className="plain" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <Banner />
      <main id="main" className="page" tabIndex={-1}>
        <Page path={route.path} me={me} />
      </main>
    </>
  );
}

function Page({ path, me }: { path: string[]; me: Me }) {
  switch (path[0]) {
    case undefined:
      return <OverviewPage />;
    case 'clusters':
      return path[1] ? <ClusterPage name={path[1]} me={me} /> : <OverviewPage />;
    case 'agents':
      return <AgentsPage />;
    case 'events':
      return <EventsPage />;
    case 'admin':
      return <AdminPage me={me} />;
    default:
      return (
        <>
          <h1>Not found</h1>
          <p>
            Nothing lives at this address. <a href={href('/')}>See every cluster</a>.
          </p>
        </>
      );
  }
}
