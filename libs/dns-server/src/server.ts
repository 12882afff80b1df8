/**
 * UDP and TCP listeners on one port around `answerQuery`. TCP follows RFC 7766: 2-byte length framing,
 * any number of queries per connection, pipelined (answered in order), idle connections closed, and so are
 * connections whose message does not arrive whole within the same timeout (at most one 64 kB message is
 * buffered per connection, and at most `maxTcpConnections` connections are open). A frame
 * shorter than a DNS header, or one that gets no reply or FORMERR, closes its connection (after the FORMERR
 * is sent); other connections and UDP are not affected.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { RCODE_FORMERR, answerQuery, serverFailureReply, type DnsTransport } from './responder.js';
import type { ZoneData } from './zone.js';

export interface DnsServerOptions {
  /** IP address to bind UDP and TCP to; default `0.0.0.0`. An IPv6 address (e.g. `::`) binds IPv6 sockets. */
  host?: string;
  /** Port for both UDP and TCP; 0 picks a port that is free for both. */
  port: number;
  /**
   * A TCP connection with nothing received or sent for this long is closed, and so is one whose message
   * has not arrived whole this long after its first byte (a client trickling a byte at a time); default 10 s.
   */
  tcpIdleTimeoutMs?: number;
  /** Further TCP connections are refused while this many are open; default 1024. */
  maxTcpConnections?: number;
  /**
   * Told about problems that would otherwise go unnoticed: a `ZoneData` that cannot be served (reported
   * once per zone object; its queries get SERVFAIL) and socket errors.
   */
  onError?: (err: Error) => void;
}

export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_TCP_CONNECTIONS = 1024;
/** Attempts at finding a port free for both UDP and TCP when the port is 0. */
const PORT_ATTEMPTS = 20;
/** A connection this server is ending (after a malformed frame, or at stop) is destroyed after this. */
const CLOSE_GRACE_MS = 500;
/** Socket buffer sizes asked for on the UDP socket (the kernel may cap them), to ride out bursts. */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

export class DnsServer {
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly connections = new Set<Socket>();
  private lastError: unknown = null;

  /**
   * `getZone` is called for every query; return the same object until the data changes, or `null`
   * when the data cannot be vouched for right now (every query then gets SERVFAIL).
   */
  constructor(
    private readonly getZone: () => ZoneData | null,
    private readonly options: DnsServerOptions,
  ) {}

  /** Binds UDP then TCP on the same port; resolves with that port. */
  async start(): Promise<{ port: number }> {
    if (this.udp || this.tcp) throw new Error('DnsServer is already started');
    const host = this.options.host ?? '0.0.0.0';
    const family = isIP(host);
    if (family === 0) throw new TypeError(`DnsServer host must be an IP address, got ${JSON.stringify(host)}`);
    const attempts = this.options.port === 0 ? PORT_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt++) {
      const udp = await this.bindUdp(family === 6 ? 'udp6' : 'udp4', host, this.options.port);
      const port = udp.address().port;
      try {
        this.tcp = await this.listenTcp(host, port);
        this.udp = udp;
        return { port };
      } catch (err) {
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= attempts) throw err;
      }
    }
  }

  /** Closes both listeners and every open TCP connection. */
  async stop(): Promise<void> {
    const { udp, tcp } = this;
    this.udp = null;
    this.tcp = null;
    // Answers already written still reach the client; a connection that does not close is cut shortly after.
    for (const socket of this.connections) {
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    }
    this.connections.clear();
    await Promise.all([udp && new Promise<void>((resolve) => udp.close(() => resolve())), tcp && new Promise<void>((resolve) => tcp.close(() => resolve()))]);
  }

  private bindUdp(type: 'udp4' | 'udp6', host: string, port: number): Promise<UdpSocket> {
    return new Promise((resolve, reject) => {
      // Replies go to the address a query came from, always a literal: no resolver step before each send.
      const udp = createSocket({ type, lookup: (address, _options, done) => done(null, address, type === 'udp4' ? 4 : 6) });
      udp.once('error', reject);
      udp.bind({ address: host, port, exclusive: true }, () => {
        udp.off('error', reject);
        udp.on('error', (err) => this.report(err));
        try {
          udp.setRecvBufferSize(UDP_BUFFER_BYTES);
          udp.setSendBufferSize(UDP_BUFFER_BYTES);
        } catch {
          // Kept at the system default.
        }
        udp.on('message', (msg, rinfo) => {
          const reply = this.answer(msg, 'udp');
          if (reply === null || rinfo.port === 0) return;
          // No completion callback: nothing waits on a datagram's fate (a lost one is the client's retry).
          udp.send(reply, rinfo.port, rinfo.address);
        });
        resolve(udp);
      });
    });
  }

  private listenTcp(host: string, port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.serveConnection(socket));
      server.maxConnections = this.options.maxTcpConnections ?? DEFAULT_MAX_TCP_CONNECTIONS;
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.report(err));
        resolve(server);
      });
    });
  }

  /**
   * The reply this server gives to `query` over `transport`, with the zone it serves now: what the UDP
   * and TCP listeners send, also callable in process (to check what clients are told without a socket).
   */
  answer(query: Buffer, transport: DnsTransport): Buffer | null {
    try {
      const zone = this.getZone();
      return zone === null ? serverFailureReply(query) : answerQuery(query, zone, transport);
    } catch (err) {
      this.report(err);
      return serverFailureReply(query);
    }
  }

  private report(err: unknown): void {
    // The same error object comes back for every query of a zone that cannot be served: tell once.
    if (err === this.lastError) return;
    this.lastError = err;
    this.options.onError?.(err instanceof Error ? err : new Error(String(err)));
  }

  private serveConnection(socket: Socket): void {
    if (!this.tcp) {
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.once('close', () => this.connections.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    const timeoutMs = this.options.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS;
    socket.setTimeout(timeoutMs, () => socket.destroy());
    /** Runs from the first byte of a message until it is whole: trickled bytes do not extend it. */
    let messageDeadline: NodeJS.Timeout | null = null;
    const messageDone = (): void => {
      if (messageDeadline !== null) clearTimeout(messageDeadline);
      messageDeadline = null;
    };
    socket.once('close', messageDone);

    let closing = false;
    /** First length byte when a chunk ended between the two. */
    let lengthHigh = -1;
    /** The frame being filled across chunks, and how much of it is there. */
    let partial: Buffer | null = null;
    let filled = 0;
    let waitingForDrain = false;

    /** Answers one frame; false when the connection is being closed. */
    const onFrame = (frame: Buffer): boolean => {
      messageDone();
      const reply = frame.length >= 12 ? this.answer(frame, 'tcp') : null;
      if (reply === null) {
        // Ended, not destroyed: the answers to the messages before this one are still sent.
        closing = true;
        socket.end();
        // A half-closed client cannot hold the connection: whatever it sends now is ignored, so cut it soon.
        setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
        return false;
      }
      const framed = Buffer.allocUnsafe(reply.length + 2);
      framed.writeUInt16BE(reply.length, 0);
      reply.copy(framed, 2);
      if ((reply[3] & 0x0f) === RCODE_FORMERR) {
        closing = true;
        socket.end(framed);
        setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
        return false;
      }
      if (!socket.write(framed) && !waitingForDrain) {
        // The client is not reading its answers: stop reading its queries until it catches up.
        waitingForDrain = true;
        socket.pause();
        socket.once('drain', () => {
          waitingForDrain = false;
          if (!closing) socket.resume();
        });
      }
      return true;
    };

    socket.on('data', (chunk: Buffer) => {
      if (closing) return;
      socket.cork();
      try {
        let i = 0;
        while (i < chunk.length) {
          if (partial === null) {
            let length: number;
            if (lengthHigh >= 0) {
              length = (lengthHigh << 8) | chunk[i++];
              lengthHigh = -1;
            } else if (i + 1 < chunk.length) {
              length = chunk.readUInt16BE(i);
              i += 2;
            } else {
              lengthHigh = chunk[i++];
              break;
            }
            if (i + length <= chunk.length) {
              if (!onFrame(chunk.subarray(i, i + length))) return;
              i += length;
              continue;
            }
            partial = Buffer.allocUnsafe(length);
            filled = 0;
          }
          const take = Math.min(partial.length - filled, chunk.length - i);
          chunk.copy(partial, filled, i, i + take);
          filled += take;
          i += take;
          if (filled === partial.length) {
            const frame = partial;
            partial = null;
            if (!onFrame(frame)) return;
          }
        }
      } finally {
        socket.uncork();
        if ((partial !== null || lengthHigh >= 0) && messageDeadline === null && !closing) {
          messageDeadline = setTimeout(() => socket.destroy(), timeoutMs);
        }
      }
    });
  }
}
