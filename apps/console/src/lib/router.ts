import { useSyncExternalStore } from 'react';

/**
 * Routes live in the URL's hash (`#/clusters/orders?tab=…`): the controller serves one static page, and
 * the console keeps working behind a proxy sub-path without server-side rewrites. Filters are in the
 * hash's query, so a filtered view can be bookmarked and shared.
 */
export interface Route {
  path: string[];
  query: URLSearchParams;
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const cut = raw.indexOf('?');
  const path = (cut < 0 ? raw : raw.slice(0, cut)).split('/').filter(Boolean).map(safeDecode);
  return { path, query: new URLSearchParams(cut < 0 ? '' : raw.slice(cut + 1)) };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

let current = parse(location.hash);
const listeners = new Set<() => void>();
window.addEventListener('hashchange', () => {
  current = parse(location.hash);
  for (const listener of listeners) listener();
});

export function useRoute(): Route {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => current,
  );
}

/** A link target: path segments are encoded; empty query values are left out. */
export function href(path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export function clusterHref(name: string): string {
  return href(`/clusters/${encodeURIComponent(name)}`);
}

/** Changes the URL without adding a history entry (filters typed in a search box). */
export function replaceQuery(path: string, query: Record<string, string | undefined>): void {
  const next = href(path, query);
  if (next !== location.hash) history.replaceState(null, '', next);
  current = parse(next);
  for (const listener of listeners) listener();
}
