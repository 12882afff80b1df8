/**
 * A small user-space TCP proxy that delays traffic (this kernel has no `netem` qdisc): every chunk, in
 * both directions, is held `delay ± jitter` ms, in order. Run on a lab host; `lab.delayPath` sends that
 * host's connections to one address through it (nftables DNAT) and makes its upstream connections from the
 * host's second address, which the DNAT rule leaves alone.
 *
 *   node delay-proxy.js <listenHost> <listenPort> <targetHost> <targetPort> <sourceHost> <delayMs> <jitterMs>
 */
import { connect, createServer, type Socket } from 'node:net';

const [listenHost, listenPort, targetHost, targetPort, sourceHost, delayArg, jitterArg] = process.argv.slice(2);
const delayMs = Number(delayArg);
const jitterMs = Number(jitterArg);
if (!listenHost || !targetHost || !sourceHost || !Number.isFinite(delayMs) || !Number.isFinite(jitterMs)) {
  console.error('usage: delay-proxy <listenHost> <listenPort> <targetHost> <targetPort> <sourceHost> <delayMs> <jitterMs>');
  process.exit(2);
}

/** Forwards `from` → `to`, each chunk after its own delay but never before the chunk ahead of it. */
function delayedPipe(from: Socket, to: Socket): void {
  let due = 0;
  from.on('data', (chunk: Buffer) => {
    const at = Math.max(due, Date.now() + Math.max(0, delayMs + (Math.random() * 2 - 1) * jitterMs));
    due = at;
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, at - Date.now());
  });
  from.on('end', () => setTimeout(() => to.end(), Math.max(0, due - Date.now())));
}

const server = createServer((client) => {
  const upstream = connect({ host: targetHost, port: Number(targetPort), localAddress: sourceHost });
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  delayedPipe(client, upstream);
  delayedPipe(upstream, client);
});
server.listen(Number(listenPort), listenHost, () => process.stdout.write('listening\n'));
