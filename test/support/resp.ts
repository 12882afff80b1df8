import { connect, type Socket } from 'node:net';

/** A raw TCP conversation with a RESP server: send bytes, read what comes back. */
export interface RawConnection {
  socket: Socket;
  /** Everything received so far (latin1). */
  received(): string;
  send(bytes: string): void;
  /** Waits until the received text satisfies `done` (or `timeoutMs` passes) and returns it. */
  until(done: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  closed: Promise<void>;
  close(): void;
}

export async function rawConnect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawConnection> {
  const socket = connect({ port, host, ...(localAddress ? { localAddress } : {}) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buf = '';
  socket.on('data', (d: Buffer) => (buf += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    received: () => buf,
    send: (bytes) => socket.write(bytes),
    async until(done, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(buf) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return buf;
    },
    closed,
    close: () => socket.destroy(),
  };
}

/** A command as a RESP multibulk request. */
export function cmd(...args: (string | number)[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;
}
