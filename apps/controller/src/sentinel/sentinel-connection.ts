import type { Socket } from 'node:net';
import { roleSatisfies } from '../../../../libs/contracts/src/index.js';
import { encodeReply, globMatch, R, type Reply, RespProtocolError, RespRequestParser } from '../../../../libs/resp/src/index.js';
import type { Principal } from '../auth/principal.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import {
  infoText,
  type InfoInput,
  type InstanceFacts,
  type MasterFacts,
  masterFields,
  type PeerFacts,
  replicaFields,
  sentinelFields,
} from './sentinel-format.js';
import { arityError, command, noSuchMaster, SENTINEL_HELP } from './sentinel-commands.js';

/** What the endpoint answers from: the controller's memory (and, for SENTINEL FAILOVER, the failover engine). */
export interface SentinelBackend {
  readonly runId: string;
  /** The endpoint password: when set, nothing but AUTH, HELLO and QUIT is answered before authentication. */
  readonly password: string | undefined;
  /**
   * Who these credentials are: the endpoint password (user `default`) or a Vigil API token (any user
   * name); null when they are neither. Rejects only when they could not be checked (database down).
   */
  /** Null for wrong credentials; throws a `rate_limited` VigilError when the client's address is blocked. */
  authenticate(user: string | undefined, secret: string, address?: string): Promise<Principal | null>;
  /** `undefined` for an unknown master name, `null` when no master is recorded. */
  masterAddress(name: string): { host: string; port: number } | null | undefined;
  /** The encoded `get-master-addr-by-name` answer (the same in RESP2 and RESP3), or null when there is none: the hottest request. */
  masterAddressReply(name: string): string | null;
  masters(now: number): MasterFacts[];
  master(name: string, now: number): MasterFacts | undefined;
  replicas(name: string, now: number): { replicas: InstanceFacts[]; master: { host: string; port: number }; downAfterMs: number } | undefined;
  sentinels(name: string): { peers: PeerFacts[]; downAfterMs: number } | undefined;
  /** Usable agents (not stale, not tilted), and whether they reach both the quorum and a majority of the agents assigned. */
  quorum(name: string): { usable: number; quorum: number; majority: boolean } | undefined;
  /**
   * A forced failover on behalf of `principal`, under the same rules as REST; rejects with a
   * Sentinel-style error text (`NOPERM …`, `ERR cluster … is in maintenance …`, `NOGOODSLAVE …`, `INPROG …`).
   */
  failover(name: string, principal: Principal): Promise<void>;
  info(): InfoInput;
}

/** Counters the server keeps across connections (INFO, metrics). */
export interface SentinelStats {
  connectionsReceived: number;
  commandsProcessed: number;
  /** Connections refused at SENTINEL_MAX_CLIENTS (INFO's rejected_connections). */
  rejectedConnections: number;
}

/** Beyond this much unsent output, a subscriber that does not read is disconnected (Redis' pubsub output limit). */
const MAX_PENDING_OUTPUT = 8 * 1_048_576;

/** The answer to an operator command from a connection without an operator's credentials. */
export const NOPERM_OPERATOR = 'NOPERM this command requires an operator token: AUTH <token>';

/**
 * SENTINEL subcommands that change something in a real Sentinel. Vigil implements only FAILOVER (and
 * RESET, as a no-op); the others are refused like FAILOVER without credentials and answered as before
 * with them, so a probe without credentials learns nothing about what exists.
 */
const MUTATING_SUBCOMMANDS = new Set(['failover', 'set', 'reset', 'remove', 'monitor', 'flushconfig', 'is-master-down-by-addr']);

/** Commands allowed in RESP2 while subscribed (Redis' rule). */
const SUBSCRIBED_ALLOWED = new Set(['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe', 'ping', 'quit', 'reset']);

/**
 * One client connection to the Sentinel-compatible endpoint: RESP2 or RESP3 (HELLO), optional
 * password, pipelined requests answered in order, pub/sub. A protocol error answers once and closes
 * this connection only.
 */
export class SentinelConnection {
  readonly id: number;
  private readonly parser = new RespRequestParser({ maxBulkBytes: 65_536, maxArgs: 1024, maxInlineBytes: 65_536 });
  private resp3 = false;
  /** Past the password gate: no password is set, or the connection authenticated. */
  private authed: boolean;
  /** The credentials that authenticated this connection, kept to check them again before an operator command (a revoked token stops at once). */
  private credentials: { user: string | undefined; secret: string } | null = null;
  private name: string | null = null;
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  private queue: string[][] = [];
  private busy = false;
  private closing = false;
  /** A protocol error met after the queued commands: answered once they are, then the connection closes. */
  private refusal: string | null = null;

  constructor(
    private readonly socket: Socket,
    id: number,
    private readonly backend: SentinelBackend,
    private readonly stats: SentinelStats,
    private readonly onSubscriptionsChanged: () => void,
  ) {
    this.id = id;
    this.authed = backend.password === undefined;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
  }

  get subscribed(): boolean {
    return this.channels.size + this.patterns.size > 0;
  }

  /** Delivers a pub/sub message if this connection listens on `channel` (directly or by pattern). */
  deliver(channel: string, payload: string): void {
    if (this.closing) return;
    let out = '';
    if (this.channels.has(channel)) out += encodeReply(R.push([R.bulk('message'), R.bulk(channel), R.bulk(payload)]), this.resp3);
    for (const p of this.patterns) {
      if (globMatch(p, channel)) out += encodeReply(R.push([R.bulk('pmessage'), R.bulk(p), R.bulk(channel), R.bulk(payload)]), this.resp3);
    }
    if (out !== '') this.write(out);
  }

  private write(out: string): void {
    if (this.socket.destroyed) return;
    this.socket.write(out);
    if (this.socket.writableLength > MAX_PENDING_OUTPUT) {
      this.closing = true;
      this.socket.destroy();
    }
  }

  /** Reads requests unless a command is in flight (so the queue cannot grow without bound). */
  private reading(): void {
    if (this.closing) return;
    if (this.busy) this.socket.pause();
    else this.socket.resume();
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.refusal !== null) return;
    try {
      for (const cmd of this.parser.push(chunk)) this.queue.push(cmd);
    } catch (err) {
      // The commands before the bad bytes are answered first, in order, as Redis does.
      if (err instanceof RespProtocolError) for (const cmd of err.before) this.queue.push(cmd);
      this.refusal = err instanceof RespProtocolError ? err.message : 'Protocol error';
    }
    this.drain();
  }

  /**
   * Runs queued commands in order; an asynchronous one (AUTH with a token, an operator command) holds the
   * ones behind it, and the socket is not read meanwhile, so a client pipelining behind a slow command
   * cannot make the queue grow without bound.
   */
  private drain(): void {
    if (this.busy) return;
    let out = '';
    while (this.queue.length > 0 && !this.closing) {
      const args = this.queue.shift()!;
      this.stats.commandsProcessed++;
      const reply = this.execute(args);
      if (reply instanceof Promise) {
        if (out !== '') this.write(out);
        this.busy = true;
        this.reading();
        void reply
          .then(
            (r) => this.write(encodeReply(r, this.resp3)),
            () => this.write(encodeReply(R.error('ERR internal error'), this.resp3)),
          )
          .finally(() => {
            this.busy = false;
            this.reading();
            this.drain();
          });
        return;
      }
      if (reply !== null) out += typeof reply === 'string' ? reply : encodeReply(reply, this.resp3);
    }
    if (this.refusal !== null && !this.closing) {
      out += encodeReply(R.error(`ERR ${this.refusal}`), this.resp3);
      this.closing = true;
    }
    if (out !== '') this.write(out);
    if (this.closing) this.socket.end();
  }

  /** A reply, several already encoded (pub/sub confirmations), a promise, or null for nothing. */
  private execute(args: string[]): Reply | string | Promise<Reply> | null {
    const cmd = args[0]!.toLowerCase();
    if (!this.authed && !['auth', 'hello', 'quit'].includes(cmd)) return R.error('NOAUTH Authentication required.');
    if (this.subscribed && !this.resp3 && !SUBSCRIBED_ALLOWED.has(cmd)) {
      return R.error(`ERR Can't execute '${cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
    }
    switch (cmd) {
      case 'ping':
        if (args.length > 2) return arityError('ping');
        if (this.subscribed && !this.resp3) return R.array([R.bulk('pong'), R.bulk(args[1] ?? '')]);
        return args.length === 2 ? R.bulk(args[1]!) : R.simple('PONG');
      case 'quit':
        this.closing = true;
        return R.ok;
      case 'reset':
        this.resp3 = false;
        this.name = null;
        this.channels.clear();
        this.patterns.clear();
        this.authed = this.backend.password === undefined;
        this.credentials = null;
        this.onSubscriptionsChanged();
        return R.simple('RESET');
      case 'auth':
        return this.auth(args);
      case 'hello':
        return this.hello(args);
      case 'client':
        return this.client(args);
      case 'role':
        if (args.length !== 1) return arityError('role');
        return R.array([R.bulk('sentinel'), R.bulks(this.backend.masters(Date.now()).map((m) => m.name))]);
      case 'info':
        return R.verbatim(infoText(this.backend.info(), args.slice(1)));
      case 'command':
        return command(args);
      case 'sentinel':
        return this.sentinel(args);
      case 'subscribe':
      case 'psubscribe':
        if (args.length < 2) return arityError(cmd);
        return this.subscribe(cmd === 'psubscribe', args.slice(1));
      case 'unsubscribe':
      case 'punsubscribe':
        return this.unsubscribe(cmd === 'punsubscribe', args.slice(1));
      default:
        return R.error(
          `ERR unknown command '${args[0]}', with args beginning with: ${args
            .slice(1)
            .map((a) => `'${a}' `)
            .join('')}`,
        );
    }
  }

  private auth(args: string[]): Reply | Promise<Reply> {
    if (args.length < 2 || args.length > 3) return arityError('auth');
    return this.authenticate(args.length === 3 ? args[1]! : undefined, args[args.length - 1]!).then((refused) => refused ?? R.ok);
  }

  /**
   * Checks the credentials (password or API token) and remembers them; answers the refusal, or null.
   * A failed attempt leaves an earlier authentication in place, as in Redis.
   */
  private async authenticate(user: string | undefined, secret: string): Promise<Reply | null> {
    let principal: Principal | null;
    try {
      principal = await this.backend.authenticate(user, secret, this.socket.remoteAddress);
    } catch (err) {
      if (err instanceof VigilError && err.code === ErrorCode.RATE_LIMITED) return R.error(`ERR ${err.message}`);
      return R.error('ERR could not verify the credentials now, try again');
    }
    if (!principal) {
      // Kept word for word: clients such as ioredis carry on when a password is sent to a server without one.
      if (this.backend.password === undefined && (user === undefined || user === 'default')) {
        return R.error('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
      }
      return R.error('WRONGPASS invalid username-password pair or user is disabled.');
    }
    this.authed = true;
    this.credentials = { user, secret };
    return null;
  }

  /**
   * The principal behind this connection, checked again now (the token may have been revoked since
   * AUTH; the verification cache makes this cheap); null without credentials.
   */
  private async principal(): Promise<Principal | null> {
    if (!this.credentials) return null;
    try {
      return await this.backend.authenticate(this.credentials.user, this.credentials.secret, this.socket.remoteAddress);
    } catch {
      return null;
    }
  }

  /** Runs `allowed` for an operator (or, with `roleChecked`, for anyone authenticated: the engine decides), else NOPERM. */
  private async asOperator(allowed: (principal: Principal) => Reply | Promise<Reply>, roleChecked = false): Promise<Reply> {
    const principal = await this.principal();
    if (!principal || (!roleChecked && !roleSatisfies(principal.role, 'operator'))) return R.error(NOPERM_OPERATOR);
    return allowed(principal);
  }

  private hello(args: string[]): Reply | Promise<Reply> {
    let proto = this.resp3 ? 3 : 2;
    let i = 1;
    if (args.length > 1) {
      const v = Number(args[1]);
      if (!/^\d+$/.test(args[1]!)) return R.error('ERR Protocol version is not an integer or out of range');
      if (v < 2 || v > 3) return R.error('NOPROTO unsupported protocol version');
      proto = v;
      i = 2;
    }
    let name: string | null | undefined;
    let credentials: [string, string] | undefined;
    for (; i < args.length; i++) {
      const opt = args[i]!.toLowerCase();
      if (opt === 'auth' && i + 2 < args.length) {
        credentials = [args[i + 1]!, args[i + 2]!];
        i += 2;
      } else if (opt === 'setname' && i + 1 < args.length) {
        name = args[++i]!;
      } else {
        return R.error(`ERR Syntax error in HELLO option '${args[i]}'`);
      }
    }
    const finish = (): Reply => {
      if (!this.authed)
        return R.error(
          'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
        );
      if (name !== undefined) this.name = name;
      this.resp3 = proto === 3;
      return R.fields([
        ['server', 'redis'],
        ['version', this.backend.info().version],
        ['proto', R.int(proto)],
        ['id', R.int(this.id)],
        ['mode', 'sentinel'],
        ['role', 'master'],
        ['modules', R.array([])],
      ]);
    };
    if (!credentials) return finish();
    return this.authenticate(credentials[0], credentials[1]).then((refused) => refused ?? finish());
  }

  private client(args: string[]): Reply {
    const sub = args[1]?.toLowerCase();
    switch (sub) {
      case 'setname':
        if (args.length !== 3) return arityError('client|setname');
        if (/[\s]/.test(args[2]!)) return R.error('ERR Client names cannot contain spaces, newlines or special characters.');
        this.name = args[2] === '' ? null : args[2]!;
        return R.ok;
      case 'getname':
        return this.name === null ? R.nullBulk : R.bulk(this.name);
      case 'id':
        return R.int(this.id);
      case 'setinfo':
        if (args.length !== 4) return arityError('client|setinfo');
        if (!['lib-name', 'lib-ver'].includes(args[2]!.toLowerCase())) return R.error(`ERR Unrecognized option '${args[2]}'`);
        return R.ok;
      case undefined:
        return arityError('client');
      default:
        return R.error(`ERR unknown subcommand '${args[1]}'. Try CLIENT HELP.`);
    }
  }

  private sentinel(args: string[]): Reply | Promise<Reply> {
    const sub = args[1]?.toLowerCase();
    const name = args[2];
    const now = Date.now();
    const needsName = (n: number) => (args.length !== n ? arityError(`sentinel|${sub}`) : undefined);
    // FAILOVER's role is checked by the operator-actions authority (which records the refusal); the rest here.
    if (sub === 'failover') {
      const bad = needsName(3);
      if (bad) return bad;
      return this.asOperator(async (principal) => {
        if (this.backend.masterAddress(name!) === undefined) return noSuchMaster();
        return this.backend.failover(name!, principal).then(
          () => R.ok,
          (err: Error) => R.error(err.message),
        );
      }, true);
    }
    if (sub !== undefined && (MUTATING_SUBCOMMANDS.has(sub) || (sub === 'config' && args[2]?.toLowerCase() === 'set'))) {
      return this.asOperator(() => (sub === 'reset' ? R.int(0) : R.error(`ERR unknown subcommand '${args[1]}'. Try SENTINEL HELP.`)));
    }
    switch (sub) {
      case undefined:
        return arityError('sentinel');
      case 'help':
        return R.array(SENTINEL_HELP.map((l) => R.simple(l)));
      case 'myid':
        return R.bulk(this.backend.runId);
      case 'get-master-addr-by-name': {
        const bad = needsName(3);
        if (bad) return bad;
        const encoded = this.backend.masterAddressReply(name!);
        return encoded === null ? R.nullArray : R.raw(encoded);
      }
      case 'masters':
        if (args.length !== 2) return arityError('sentinel|masters');
        return R.array(this.backend.masters(now).map((m) => R.fields(masterFields(m, now))));
      case 'master': {
        const bad = needsName(3);
        if (bad) return bad;
        const m = this.backend.master(name!, now);
        return m ? R.fields(masterFields(m, now)) : noSuchMaster();
      }
      case 'replicas':
      case 'slaves': {
        const bad = needsName(3);
        if (bad) return bad;
        const r = this.backend.replicas(name!, now);
        if (!r) return noSuchMaster();
        return R.array(r.replicas.map((x) => R.fields(replicaFields(x, r.master, r.downAfterMs, now))));
      }
      case 'sentinels': {
        const bad = needsName(3);
        if (bad) return bad;
        const s = this.backend.sentinels(name!);
        if (!s) return noSuchMaster();
        return R.array(s.peers.map((p) => R.fields(sentinelFields(p, s.downAfterMs, now))));
      }
      case 'ckquorum': {
        const bad = needsName(3);
        if (bad) return bad;
        const q = this.backend.quorum(name!);
        if (!q) return noSuchMaster();
        const s = q.usable === 1 ? '' : 's';
        if (q.usable < q.quorum) {
          return R.error(`NOQUORUM ${q.usable} usable probe agent${s}. Not enough available probe agents to reach the specified quorum for this master`);
        }
        if (!q.majority) {
          return R.error(`NOQUORUM ${q.usable} usable probe agent${s}. Not enough available probe agents to reach the majority and authorize a failover`);
        }
        return R.simple(`OK ${q.usable} usable probe agent${s}. Quorum and failover authorization can be reached`);
      }
      default:
        return R.error(`ERR unknown subcommand '${args[1]}'. Try SENTINEL HELP.`);
    }
  }

  private subscribe(pattern: boolean, names: string[]): string {
    const set = pattern ? this.patterns : this.channels;
    let out = '';
    for (const n of names) {
      set.add(n);
      out += encodeReply(R.push([R.bulk(pattern ? 'psubscribe' : 'subscribe'), R.bulk(n), R.int(this.channels.size + this.patterns.size)]), this.resp3);
    }
    this.onSubscriptionsChanged();
    return out;
  }

  private unsubscribe(pattern: boolean, names: string[]): string {
    const set = pattern ? this.patterns : this.channels;
    const kind = pattern ? 'punsubscribe' : 'unsubscribe';
    const targets = names.length > 0 ? names : [...set];
    if (targets.length === 0) return encodeReply(R.push([R.bulk(kind), R.nullBulk, R.int(this.channels.size + this.patterns.size)]), this.resp3);
    let out = '';
    for (const n of targets) {
      set.delete(n);
      out += encodeReply(R.push([R.bulk(kind), R.bulk(n), R.int(this.channels.size + this.patterns.size)]), this.resp3);
    }
    this.onSubscriptionsChanged();
    return out;
  }
}
