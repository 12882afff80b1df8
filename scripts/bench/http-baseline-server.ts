/**
 * The least an HTTP server can do for a master lookup: node:http answering every request with a fixed
 * JSON body of the same shape and headers as `GET /clusters/{name}/master`. Run in a process of its own
 * to measure what the load generator and this machine allow; tells its port over the fork IPC channel
 * (`{ type: 'ready', port }`).
 */
import { createServer } from 'node:http';

const body = JSON.stringify({ host: '127.0.0.1', port: 6379, epoch: 1, since: new Date().toISOString() });
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', etag: '"1-127.0.0.1:6379"', 'cache-control': 'no-cache' });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ type: 'ready', port: (server.address() as { port: number }).port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
