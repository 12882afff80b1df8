/**
 * The least a Node process can do for a Sentinel lookup: node:net, a minimal RESP request scanner, and one
 * fixed `get-master-addr-by-name` answer per command, written once per chunk read. Run in a process of its
 * own as a reference for what Node's sockets allow on this machine; tells its port over the fork IPC
 * channel (`{ type: 'ready', port }`).
 */
import { createServer } from 'node:net';

const host = process.argv[2] ?? '127.0.0.1';
const port = process.argv[3] ?? '6379';
const reply = `*2\r\n$${host.length}\r\n${host}\r\n$${port.length}\r\n${port}\r\n`;

/** Complete commands (arrays of bulk strings) at the start of `buf`, and the bytes they take. */
function scan(buf: Buffer): { commands: number; used: number } {
  let i = 0;
  let commands = 0;
  for (;;) {
    const start = i;
    if (buf[i] !== 0x2a) return { commands, used: start }; // '*'
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) return { commands, used: start };
    let args = Number(buf.toString('latin1', i + 1, eol));
    i = eol + 2;
    while (args-- > 0) {
      const lenEnd = buf.indexOf('\r\n', i);
      if (lenEnd < 0) return { commands, used: start };
      i = lenEnd + 2 + Number(buf.toString('latin1', i + 1, lenEnd)) + 2;
      if (i > buf.length) return { commands, used: start };
    }
    commands++;
  }
}

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const { commands, used } = scan(pending);
    pending = pending.subarray(used);
    if (commands > 0) socket.write(commands === 1 ? reply : reply.repeat(commands));
  });
});
server.listen(0, '127.0.0.1', () => process.send!({ type: 'ready', port: (server.address() as { port: number }).port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
