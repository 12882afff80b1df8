import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { array, bulk, error, RespProtocolError, RespRequestParser, simple } from '../../libs/resp/src/index.js';

/**
 * Thousands of Redis-like nodes in one process for scale benchmarks: each listens on its own port and
 * answers what probes and role discovery send (PING, INFO, CLIENT, AUTH, SELECT, QUIT) with the
 * replication facts of a master or a replica. A killed node closes its port and connections, as a
 * SIGKILLed redis-server would; its replicas then report their master link down.
 */
const PING = Buffer.from('*1\r\n$4\r\nping\r\n');
const PONG = '+PONG\r\n';
/** The low end of the kernel's range for outgoing connections' local ports. */
const EPHEMERAL_LOW = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;

export interface FarmNode {
  port: number;
  role: 'master' | 'replica';
  masterPort?: number;
  replicaPorts: number[];
  runId: string;
  alive: boolean;
  server?: Server;
  sockets: Set<Socket>;
}

/**
 * How to split a farm of `groups` groups into processes of at most `perProcess` groups, and the first
 * port of each (farms side by side count their ports from there, apart). One process may hold 20,000
 * open files on the machines these benchmarks run on, a limit a container often cannot raise.
 */
export function farmSlices(groups: number, nodesPerGroup: number, perProcess: number): { groups: number; firstPort: number }[] {
  const slices: { groups: number; firstPort: number }[] = [];
  for (let first = 0; first < groups; first += perProcess)
    slices.push({ groups: Math.min(perProcess, groups - first), firstPort: 10_000 + first * nodesPerGroup });
  return slices;
}

export class NodeFarm {
  readonly nodes = new Map<number, FarmNode>();
  readonly groups: FarmNode[][] = [];
  private readonly started = Date.now();
  private candidatePort = 10_000;

  /** `firstPort`: where this farm starts counting its ports (farms side by side keep apart this way). */
  static async start(groups: number, replicasPerGroup: number, firstPort = 10_000): Promise<NodeFarm> {
    const farm = new NodeFarm();
    farm.candidatePort = firstPort;
    for (let g = 0; g < groups; g++) {
      const master = await farm.open({ role: 'master', replicaPorts: [] });
      const group = [master];
      for (let r = 0; r < replicasPerGroup; r++) {
        const replica = await farm.open({ role: 'replica', masterPort: master.port, replicaPorts: [] });
        master.replicaPorts.push(replica.port);
        group.push(replica);
      }
      farm.groups.push(group);
    }
    return farm;
  }

  /** Closes the node's port and every connection to it. */
  kill(port: number): void {
    const node = this.nodes.get(port);
    if (!node?.alive) return;
    node.alive = false;
    node.server?.close();
    for (const s of node.sockets) s.destroy();
    node.sockets.clear();
  }

  async stop(): Promise<void> {
    for (const port of this.nodes.keys()) this.kill(port);
  }

  /**
   * Listens on the next free port counting up from the first port (10000), below the kernel's ephemeral range (any port,
   * once that is used up): thousands of listeners inside the ephemeral range would leave outgoing
   * connections short of local ports, and a port picked for a controller could be taken by one of
   * them before the controller listens on it.
   */
  private async listen(server: Server): Promise<void> {
    for (;;) {
      const port = this.candidatePort < EPHEMERAL_LOW ? this.candidatePort++ : 0;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
          });
        });
        return;
      } catch (err) {
        if (port === 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
  }

  private async open(spec: Pick<FarmNode, 'role' | 'masterPort' | 'replicaPorts'>): Promise<FarmNode> {
    const node: FarmNode = { ...spec, port: 0, runId: randomBytes(20).toString('hex'), alive: true, sockets: new Set() };
    const server = createServer((socket) => this.serve(node, socket));
    await this.listen(server);
    node.port = (server.address() as { port: number }).port;
    node.server = server;
    this.nodes.set(node.port, node);
    return node;
  }

  private serve(node: FarmNode, socket: Socket): void {
    node.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => node.sockets.delete(socket));
    socket.on('error', () => undefined);
    const parser = new RespRequestParser();
    socket.on('data', (chunk: Buffer) => {
      // Fast path for the probes' PING (most of the traffic): the farm should cost little next to what is measured.
      if (chunk.length === PING.length && chunk.equals(PING)) {
        socket.write(PONG);
        return;
      }
      let out = '';
      try {
        for (const args of parser.push(chunk)) out += this.answer(node, args);
      } catch (err) {
        if (!(err instanceof RespProtocolError)) throw err;
        socket.end(error(`ERR ${err.message}`));
        return;
      }
      if (out) socket.write(out);
    });
  }

  private answer(node: FarmNode, args: string[]): string {
    switch (args[0]!.toLowerCase()) {
      case 'ping':
        return simple('PONG');
      case 'info':
        return bulk(this.info(node, (args[1] ?? 'all').toLowerCase()));
      case 'client':
      case 'auth':
      case 'select':
        return simple('OK');
      case 'role':
        return node.role === 'master' ? array([bulk('master'), ':0\r\n', array([])]) : array([bulk('slave'), bulk('127.0.0.1'), `:${node.masterPort}\r\n`]);
      case 'quit':
        return simple('OK');
      default:
        return error(`ERR unknown command '${args[0]}'`);
    }
  }

  private info(node: FarmNode, section: string): string {
    const offset = Math.floor((Date.now() - this.started) / 10);
    const server = `# Server\r\nredis_version:7.0.15\r\nrun_id:${node.runId}\r\ntcp_port:${node.port}\r\n`;
    let repl: string;
    if (node.role === 'master') {
      const replicas = node.replicaPorts.filter((p) => this.nodes.get(p)?.alive);
      repl =
        `# Replication\r\nrole:master\r\nconnected_slaves:${replicas.length}\r\n` +
        replicas.map((p, i) => `slave${i}:ip=127.0.0.1,port=${p},state=online,offset=${offset},lag=0\r\n`).join('') +
        `master_repl_offset:${offset}\r\n`;
    } else {
      const up = this.nodes.get(node.masterPort!)?.alive === true;
      repl =
        `# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:${node.masterPort}\r\nmaster_link_status:${up ? 'up' : 'down'}\r\n` +
        `master_last_io_seconds_ago:${up ? 0 : -1}\r\nmaster_link_down_since_seconds:${up ? -1 : 1}\r\nslave_repl_offset:${offset}\r\nslave_priority:100\r\n` +
        `connected_slaves:0\r\nmaster_repl_offset:${offset}\r\n`;
    }
    if (section === 'server') return server;
    if (section === 'replication') return repl;
    return server + '\r\n' + repl;
  }
}
