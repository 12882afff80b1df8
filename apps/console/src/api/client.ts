import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

/** Every schema of the controller's OpenAPI document, by name. */
export type Schemas = components['schemas'];

const TOKEN_KEY = 'vigil.token';

/**
 * The API lives beside the console (same origin, same path prefix): the page's own directory is the
 * base, so the console works at `/` and behind a proxy sub-path alike.
 */
export const apiBase = new URL('.', document.baseURI).href.replace(/\/$/, '');

let token: string | null = sessionStorage.getItem(TOKEN_KEY);
const tokenListeners = new Set<() => void>();

export function currentToken(): string | null {
  return token;
}

/** Keeps the token for this browser tab only (session storage), or forgets it. */
export function setToken(next: string | null): void {
  token = next;
  if (next) sessionStorage.setItem(TOKEN_KEY, next);
  else sessionStorage.removeItem(TOKEN_KEY);
  for (const listener of tokenListeners) listener();
}

export function onTokenChange(listener: () => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

/** The typed client generated from `openapi.json` (`npm run console:client`). */
export const api = createClient<paths>({ baseUrl: apiBase });
api.use({
  onRequest({ request }) {
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
});

export interface FieldIssue {
  field: string;
  reason: string;
}

/** An API refusal, with the server's own words: shown to the operator as is. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldIssue[] = [],
  ) {
    super(message);
  }

  /** One line for a banner: the reason first, then each field issue. */
  get plain(): string {
    const fields = this.details.map((d) => `${d.field}: ${d.reason}`).join('; ');
    return `${this.status} ${this.code}: ${this.message}${fields && !this.message.includes(fields) ? ` (${fields})` : ''}`;
  }
}

/** Turns an openapi-fetch answer into its data, or throws the API's error (signing out on 401). */
export function unwrap<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.response.ok && answer.error === undefined) return answer.data as T;
  const body = (answer.error ?? {}) as { error?: string; message?: string; details?: FieldIssue[] };
  const error = new ApiError(answer.response.status, body.error ?? 'error', body.message ?? answer.response.statusText, body.details ?? []);
  if (answer.response.status === 401 && token) setToken(null);
  throw error;
}
