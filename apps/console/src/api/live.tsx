import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { EventStream, type StreamState, type VigilEvent } from './event-stream';
import { keys, queryClient } from './queries';

interface Live {
  state: StreamState;
  /** The latest events received, newest first (at most 50). */
  recent: VigilEvent[];
  /** The stream's position: what a reconnection resumes after. */
  position: string | null;
}

const LiveContext = createContext<Live>({ state: 'connecting', recent: [], position: null });

/** The overview is one large answer (about 300 kB at 1,000 clusters): read it again at most once a second. */
const OVERVIEW_EVERY_MS = 1000;

export function useLive(): Live {
  return useContext(LiveContext);
}

/** Which cached queries an event makes stale. */
export function staleKeys(event: VigilEvent): (readonly unknown[])[] {
  const out: (readonly unknown[])[] = [keys.overview];
  if (event.cluster) out.push(keys.cluster(event.cluster));
  if (event.type.startsWith('agent.')) out.push(keys.agents);
  if (event.type.startsWith('token.')) out.push(keys.tokens);
  if (event.type.startsWith('webhook.')) out.push(keys.webhooks);
  if (event.type === 'controller.leader_elected') out.push(keys.leadership);
  const failoverId = (event.data as { failoverId?: unknown } | null)?.failoverId;
  if (typeof failoverId === 'string') out.push(keys.failover(failoverId));
  out.push(['events']);
  return out;
}

/**
 * Follows the event stream while signed in and marks the affected queries stale. Invalidations are
 * gathered for 150 ms so that a burst (a failover writes a dozen events) refetches each view once.
 */
export function LiveProvider({ children }: { children: ReactNode }) {
  const [live, setLive] = useState<Live>({ state: 'connecting', recent: [], position: null });

  useEffect(() => {
    const pending = new Map<string, readonly unknown[]>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let overviewDue = false;
    let overviewTimer: ReturnType<typeof setTimeout> | null = null;
    let overviewAt = 0;
    const refreshOverview = () => {
      overviewTimer = null;
      overviewDue = false;
      overviewAt = Date.now();
      void queryClient.invalidateQueries({ queryKey: keys.overview });
    };
    const flush = () => {
      timer = null;
      const batch = [...pending.values()];
      pending.clear();
      for (const queryKey of batch) {
        if (queryKey === keys.overview) overviewDue = true;
        else void queryClient.invalidateQueries({ queryKey });
      }
      if (overviewDue && !overviewTimer) overviewTimer = setTimeout(refreshOverview, Math.max(0, overviewAt + OVERVIEW_EVERY_MS - Date.now()));
    };
    const stream = new EventStream({
      onEvent(event) {
        for (const key of staleKeys(event)) pending.set(JSON.stringify(key), key);
        timer ??= setTimeout(flush, 150);
        setLive((prev) => ({ ...prev, recent: [event, ...prev.recent].slice(0, 50) }));
      },
      onPosition(position) {
        setLive((prev) => ({ ...prev, position }));
      },
      onState(state) {
        setLive((prev) => (prev.state === state ? prev : { ...prev, state }));
      },
      onResync() {
        void queryClient.invalidateQueries();
      },
    });
    stream.start();
    return () => {
      stream.stop();
      if (timer) clearTimeout(timer);
      if (overviewTimer) clearTimeout(overviewTimer);
    };
  }, []);

  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}
