/**
 * A UDP DNS load generator in a process of its own. Queries (A, class IN, RD) for `names` are encoded once;
 * each send copies one, picked at random, under a random ID not in flight. `window` queries are kept
 * outstanding: every reply (matched by ID) is timed and replaced by a new query; a query unanswered after
 * `timeoutMs` is counted lost and replaced. After `warmupMs`, replies received within the next
 * `durationMs` are counted. Started with one JSON argument (`DnsLoadOptions`); answers once over the fork
 * IPC channel with `{ type: 'result', … }` (`DnsLoadResult`).
 */
import { createSocket } from 'node:dgram';

export interface DnsLoadOptions {
  host: string;
  port: number;
  /** Fully qualified names without the trailing dot. */
  names: string[];
  window: number;
  warmupMs: number;
  durationMs: number;
  timeoutMs: number;
}

export interface DnsLoadResult {
  /** Replies received inside the window. */
  replies: number;
  seconds: number;
  /** Latencies in ms inside the window, sorted (sampled down to at most 200,000). */
  latenciesMs: number[];
  /** Replies that were not NOERROR with an answer, whole run. */
  bad: number;
  /** Queries unanswered after `timeoutMs`, whole run. */
  lost: number;
  cpuCores: number;
}

const MAX_SAMPLES = 200_000;

/** A query in wire format with ID 0: header (RD set, one question), QNAME, QTYPE A, QCLASS IN. */
function encodeQuery(name: string): Buffer {
  const labels = name.split('.').filter(Boolean);
  const header = Buffer.from([0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  return Buffer.concat([header, qname, Buffer.from([0, 1, 0, 1])]);
}

async function run(o: DnsLoadOptions): Promise<DnsLoadResult> {
  const queries = o.names.map(encodeQuery);
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(o.port, o.host, () => resolve());
  });
  socket.setRecvBufferSize(4 * 1024 * 1024);
  socket.setSendBufferSize(4 * 1024 * 1024);
  // In-flight queries by ID: send time (0 = free).
  const sentAt = new Float64Array(65_536);
  const start = performance.now();
  const windowStart = start + o.warmupMs;
  const windowEnd = windowStart + o.durationMs;
  const latencies: number[] = [];
  let replies = 0;
  let bad = 0;
  let lost = 0;
  let inFlight = 0;
  let cpuAtWindow: NodeJS.CpuUsage | undefined;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));

  const send = () => {
    let id = (Math.random() * 65_536) | 0;
    while (sentAt[id] !== 0) id = (Math.random() * 65_536) | 0;
    const q = Buffer.from(queries[(Math.random() * queries.length) | 0]!);
    q.writeUInt16BE(id, 0);
    sentAt[id] = performance.now();
    inFlight++;
    socket.send(q);
  };

  socket.on('message', (msg) => {
    const now = performance.now();
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const t0 = sentAt[id]!;
    if (t0 === 0) return; // late reply of a query already counted lost
    sentAt[id] = 0;
    inFlight--;
    // QR set, RCODE NOERROR, at least one answer.
    if ((msg[2]! & 0x80) === 0 || (msg[3]! & 0x0f) !== 0 || msg.readUInt16BE(6) === 0) bad++;
    if (t0 >= windowStart && now <= windowEnd) {
      replies++;
      latencies.push(now - t0);
    }
    if (cpuAtWindow === undefined && now >= windowStart) cpuAtWindow = process.cpuUsage();
    if (now < windowEnd) send();
    else if (inFlight === 0) done();
  });

  const sweep = setInterval(() => {
    const now = performance.now();
    for (let id = 0; id < sentAt.length; id++) {
      const t0 = sentAt[id]!;
      if (t0 !== 0 && now - t0 > o.timeoutMs) {
        sentAt[id] = 0;
        inFlight--;
        lost++;
        if (now < windowEnd) send();
      }
    }
    if (now >= windowEnd && inFlight === 0) done();
  }, 100);

  for (let i = 0; i < o.window; i++) send();
  await finished;
  clearInterval(sweep);
  const cpu = process.cpuUsage(cpuAtWindow);
  socket.close();
  latencies.sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(latencies.length / MAX_SAMPLES));
  return {
    replies,
    seconds: o.durationMs / 1000,
    latenciesMs: step === 1 ? latencies : latencies.filter((_, i) => i % step === 0),
    bad,
    lost,
    cpuCores: (cpu.user + cpu.system) / 1e6 / (o.durationMs / 1000),
  };
}

run(JSON.parse(process.argv[2]!) as DnsLoadOptions)
  .then((result) => process.send!({ type: 'result', ...result }, () => process.exit(0)))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
