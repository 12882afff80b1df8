import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { addressKind, literalTargetRefusal } from './webhook-target.js';

/** A delivery the target policy forbids: not retried into success, but recorded like any failure. */
export class TargetRefusedError extends Error {
  readonly code = 'ETARGETREFUSED';
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/**
 * A `lookup` for http(s).request that resolves the name itself and refuses it when any address is
 * not public. The check happens when the connection is made, on the very addresses it connects to,
 * so a name cannot pass a check and then resolve elsewhere (DNS rebinding).
 */
export function guardedLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const bad = addresses.find((a) => addressKind(a.address) !== 'public');
        if (bad) return callback(new TargetRefusedError(`${hostname} resolves to ${bad.address}, a ${addressKind(bad.address)} address`), '', 0);
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
        if ((options as { all?: boolean }).all) return (callback as unknown as (err: null, all: LookupAddress[]) => void)(null, addresses);
        return callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

export interface PostOptions {
  timeoutMs: number;
  /** Loopback, private and link-local targets allowed (`WEBHOOK_ALLOW_PRIVATE`). */
  allowPrivate: boolean;
  resolve?: Resolver;
}

/**
 * POSTs one webhook body and answers the status; redirects are not followed (a 3xx is an answer).
 * Without `allowPrivate`, targets that are or resolve to non-public addresses are refused.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, options: PostOptions): Promise<number> {
  if (!options.allowPrivate) {
    const refusal = literalTargetRefusal(url);
    if (refusal) return Promise.reject(new TargetRefusedError(`${refusal}: private targets need WEBHOOK_ALLOW_PRIVATE=true`));
  }
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(options.allowPrivate ? {} : { lookup: guardedLookup(options.resolve) }),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
