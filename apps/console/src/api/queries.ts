import { keepPreviousData, QueryClient, useQuery } from '@tanstack/react-query';
import { api, ApiError, onTokenChange, type Schemas, unwrap } from './client';

/**
 * Server state. Everything the API records is refreshed by the event stream (see live.tsx), so queries
 * never poll, except the views the controller keeps only in memory and that change without an event
 * (an agent's latency, the age of its last reply, the live "would it fail over now?").
 */
export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    },
  },
});

// Another token is another identity: nothing read with the previous one may show.
onTokenChange(() => queryClient.clear());

const MEMORY_VIEW_MS = 2000;
const path = (name: string) => ({ path: { name } });

export const keys = {
  whoami: ['whoami'] as const,
  overview: ['overview'] as const,
  agents: ['agents'] as const,
  leadership: ['leadership'] as const,
  tokens: ['tokens'] as const,
  webhooks: ['webhooks'] as const,
  events: (filter: object) => ['events', filter] as const,
  cluster: (name: string) => ['cluster', name] as const,
  failover: (id: string) => ['failover', id] as const,
};

export function useWhoami(enabled: boolean) {
  return useQuery({ queryKey: keys.whoami, enabled, staleTime: Infinity, queryFn: async () => unwrap(await api.GET('/api/v1/whoami')) });
}

const overviewQuery = { queryKey: keys.overview, queryFn: async () => unwrap(await api.GET('/api/v1/overview')) };

export function useOverview() {
  return useQuery({ ...overviewQuery, placeholderData: keepPreviousData });
}

/** Asks for the overview at once, beside the identity check, instead of after it (every page shows its banner). */
export function prefetchOverview(): void {
  void queryClient.prefetchQuery(overviewQuery);
}

export function useLeadership() {
  return useQuery({ queryKey: keys.leadership, queryFn: async () => unwrap(await api.GET('/api/v1/leadership')) });
}

export function useCluster(name: string) {
  return useQuery({
    queryKey: [...keys.cluster(name), 'settings'],
    queryFn: async () => unwrap(await api.GET('/api/v1/clusters/{name}', { params: path(name) })),
  });
}

export function useHealth(name: string) {
  return useQuery({
    queryKey: [...keys.cluster(name), 'health'],
    refetchInterval: MEMORY_VIEW_MS,
    queryFn: async () => unwrap(await api.GET('/api/v1/clusters/{name}/health', { params: path(name) })),
  });
}

export function useDecision(name: string) {
  return useQuery({
    queryKey: [...keys.cluster(name), 'decision'],
    refetchInterval: MEMORY_VIEW_MS,
    queryFn: async () => unwrap(await api.GET('/api/v1/clusters/{name}/decision', { params: path(name) })),
  });
}

export function usePublication(name: string) {
  return useQuery({
    queryKey: [...keys.cluster(name), 'publication'],
    refetchInterval: 5000,
    queryFn: async () => unwrap(await api.GET('/api/v1/clusters/{name}/publication', { params: path(name) })),
  });
}

export function useFailovers(name: string) {
  return useQuery({
    queryKey: [...keys.cluster(name), 'failovers'],
    queryFn: async () => unwrap(await api.GET('/api/v1/clusters/{name}/failovers', { params: { ...path(name), query: { limit: '20' } } })),
  });
}

export function useFailover(id: string | null) {
  return useQuery({
    queryKey: keys.failover(id ?? ''),
    enabled: id !== null,
    queryFn: async () => unwrap(await api.GET('/api/v1/failovers/{id}', { params: { path: { id: id! } } })),
  });
}

export interface EventFilter {
  cluster?: string;
  type?: string;
  since?: string;
  until?: string;
  after?: string;
  limit?: number;
}

/** The API pages events oldest first, at most 500 a page. */
const EVENT_PAGE = 500;

/**
 * Events matching a filter, oldest first. With `pages` above 1, following pages are read too and the
 * newest `keep` are kept: a timeline wants the latest events, and the API lists from the oldest.
 */
export async function fetchEvents(filter: EventFilter, pages = 1, keep = Infinity) {
  let items: Schemas['EventDto'][] = [];
  let after = filter.after;
  let next: string | null | undefined = null;
  for (let page = 0; page < pages; page++) {
    const answer = unwrap(await api.GET('/api/v1/events', { params: { query: eventQuery({ ...filter, after }) } }));
    items = items.concat(answer.items);
    if (items.length > keep) items = items.slice(items.length - keep);
    next = answer.next;
    if (!next) break;
    after = next;
  }
  return { items, next };
}

export function useEvents(filter: EventFilter) {
  return useQuery({
    queryKey: filter.cluster ? [...keys.cluster(filter.cluster), 'events', filter] : keys.events(filter),
    placeholderData: keepPreviousData,
    queryFn: () => fetchEvents(filter),
  });
}

type EventList = { items: Schemas['EventDto'][]; next?: string | null };

/**
 * A cluster's latest events (at most `keep`) since an instant, kept up to date by reading only what
 * came after the newest one held: a refresh costs one short page, however long the history.
 */
export function useLatestEvents(cluster: string, since: string, keep = 1000) {
  const queryKey = [...keys.cluster(cluster), 'latest-events', since, keep];
  return useQuery({
    queryKey,
    placeholderData: keepPreviousData,
    queryFn: async (): Promise<EventList> => {
      const held = queryClient.getQueryData<EventList>(queryKey)?.items ?? [];
      const newest = held[held.length - 1]?.id;
      const read = await fetchEvents({ cluster, since, after: newest }, 100, keep);
      return { items: held.concat(read.items).slice(-keep), next: read.next };
    },
  });
}

/** The API's query parameters for a filter, empty values left out. */
export function eventQuery(filter: EventFilter): EventFilter {
  const query: EventFilter = { limit: Math.min(filter.limit ?? EVENT_PAGE, EVENT_PAGE) };
  for (const key of ['cluster', 'type', 'since', 'until', 'after'] as const) if (filter[key]) query[key] = filter[key];
  return query;
}

export function useAgents() {
  return useQuery({ queryKey: keys.agents, refetchInterval: 5000, queryFn: async () => unwrap(await api.GET('/api/v1/agents')) });
}

export function useTokens(enabled: boolean) {
  return useQuery({ queryKey: keys.tokens, enabled, queryFn: async () => unwrap(await api.GET('/api/v1/tokens')) });
}

export function useWebhooks(enabled: boolean) {
  return useQuery({ queryKey: keys.webhooks, enabled, queryFn: async () => unwrap(await api.GET('/api/v1/webhooks')) });
}
