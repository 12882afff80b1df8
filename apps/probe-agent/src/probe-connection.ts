import net from 'node:net';
import tls from 'node:tls';
import { array, bulk, RespErrorReply, RespReplyReader, type ReplyValue } from '../../../libs/resp/src/index.js';

/** `connecting`: TCP (and TLS) not up yet; `handshake`: AUTH / CLIENT SETNAME sent, not answered; `ready`. */
export type ConnectionState = 'connecting' | 'handshake' | 'ready' | 'closed';

/** Called with the reply (an error reply is a `RespErrorReply`), or with an `Error` when the connection failed first. */
export type ReplyHandler = (reply: ReplyValue | Error) => void;

export interface ProbeConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** CLIENT SETNAME, so the probe is named in CLIENT LIST. */
  name: string;
}

export interface ProbeConnectionListener {
  /** The handshake was answered: commands may be sent. */
  onReady(): void;
  /** Why the connection failed or was refused; it is closed after. `auth`: the credentials were refused. */
  onError(message: string, auth: boolean): void;
  onClose(): void;
}

/** A command as the protocol carries it (an array of bulk strings), encoded once. */
export function encodeCommand(...args: string[]): Buffer {
  return Buffer.from(array(args.map(bulk)));
}

/** AUTH errors that mean "no password is needed here" (client libraries let them pass with a warning). */
const HARMLESS_AUTH_ERROR = /no password is set|without any password configured|wrong number of arguments for 'auth'/;

/** An error that says the credentials (or their permissions) were refused: a configuration fault, not a node down. */
export function isCredentialsRefusal(message: string): boolean {
  return /^(NOAUTH|WRONGPASS|NOPERM)\b|invalid password|invalid username-password/i.test(message);
}

/** Refusals to CLIENT SETNAME that mean the server is turning this connection away (it closes it next). */
const TURNED_AWAY = /^ERR max number of clients|^DENIED\b/;

/**
 * One probe's connection to a Redis node: a socket, the handshake, and replies handed to their
 * commands in order. Deliberately small (no queue while disconnected, no retries, no timers): the
 * probe decides when to send, when a silence is too long and when to start over, on its own tick.
 * Several commands go out in one write; nothing is allocated per command beyond its reply.
 */
export class ProbeConnection {
  state: ConnectionState = 'connecting';
  readonly openedAt = Date.now();
  private readonly socket: net.Socket;
  private readonly reader = new RespReplyReader();
  private handlers: ReplyHandler[] = [];
  private failed = false;

  constructor(
    private readonly options: ProbeConnectionOptions,
    private readonly listener: ProbeConnectionListener,
  ) {
    const { host, port } = options;
    this.socket = options.tls ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.once(options.tls ? 'secureConnect' : 'connect', () => this.handshake());
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err: Error) => this.fail(err.message));
    this.socket.on('close', () => this.onClose());
  }

  /**
   * Sends `commands` (already encoded, one write) once connected, behind the handshake while it is
   * pending (replies come in order; a refused AUTH fails them with the connection); `handlers` take their
   * replies in order. False while connecting or closed.
   */
  send(commands: Buffer, ...handlers: ReplyHandler[]): boolean {
    if (this.state !== 'ready' && this.state !== 'handshake') return false;
    for (const h of handlers) this.handlers.push(h);
    this.socket.write(commands);
    return true;
  }

  /** Reports `message` once and drops the connection at once (no graceful end: across a silent path it would never complete). */
  fail(message: string, auth = false): void {
    if (!this.failed && this.state !== 'closed') {
      this.failed = true;
      this.listener.onError(message, auth);
    }
    this.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private handshake(): void {
    this.state = 'handshake';
    const { username, password, name } = this.options;
    const commands: Buffer[] = [];
    if (password !== undefined && password !== '') {
      commands.push(username ? encodeCommand('AUTH', username, password) : encodeCommand('AUTH', password));
      this.handlers.push((reply) => {
        // A refusal of the credentials is a configuration fault; any other error (a full server, a proxy) is an ordinary failure.
        if (reply instanceof RespErrorReply && !HARMLESS_AUTH_ERROR.test(reply.message))
          this.fail(reply.message.slice(0, 120), isCredentialsRefusal(reply.message));
      });
    }
    // Any answer to SETNAME ends the handshake (a refusal such as NOAUTH, an ACL or a renamed CLIENT command
    // shows on the PINGs), except a server turning the connection away, whose reason is kept.
    commands.push(encodeCommand('CLIENT', 'SETNAME', name));
    this.handlers.push((reply) => {
      if (this.failed || this.state !== 'handshake' || (reply instanceof Error && !(reply instanceof RespErrorReply))) return;
      if (reply instanceof RespErrorReply && TURNED_AWAY.test(reply.message)) {
        this.fail(reply.message.slice(0, 120));
        return;
      }
      this.state = 'ready';
      this.listener.onReady();
    });
    this.socket.write(Buffer.concat(commands));
  }

  private onData(chunk: Buffer): void {
    try {
      this.reader.feed(chunk, (reply) => {
        if (this.failed) return; // the rest of a chunk read after a failure: the connection is on its way out
        const handler = this.handlers.shift();
        if (handler === undefined) throw new Error('Protocol error: a reply no command asked for');
        handler(reply);
      });
    } catch (err) {
      this.fail((err as Error).message.slice(0, 120));
    }
  }

  private onClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.reader.reset();
    const pending = this.handlers;
    this.handlers = [];
    const closed = new Error('connection closed');
    for (const h of pending) h(closed);
    this.listener.onClose();
  }
}
