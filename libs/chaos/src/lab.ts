/**
 * A lab of hosts: one Linux network namespace per host, each with one veth into a bridge that lives in the
 * lab's own namespace, addresses 10.77.0.0/24. Nothing is created in (or routed to) the host's own network
 * namespace. Faults are nftables rules inside the hosts' namespaces (`applyNetwork`), so deleting the
 * namespaces removes every rule.
 *
 * Clean-up holds even when the suite is killed: namespaces are named `vchaos-<owner pid>-<host>`, a detached
 * watchdog kills every process inside them and deletes them once the owner is gone, and `Lab.create` first
 * removes what an owner that no longer runs left behind.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { SpawnOptions } from 'node:child_process';
import { type ManagedProcess, startProcess } from '../../testing/src/processes.js';
import { type NetworkState, rulesFor } from './network.js';

const run = promisify(execFile);
const PREFIX = 'vchaos-';
const SUBNET = '10.77.0';

export interface LabDescription {
  owner: number;
  bridge: string;
  /** `ip`: the host's address; `ip2`: a second one, the source of a delay proxy's upstream connections. */
  hosts: Record<string, { ns: string; ip: string; ip2: string }>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listNamespaces(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(PREFIX));
}

/** Kills every process inside `ns` and deletes it. Never throws. */
function removeNamespace(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // already removed
  }
}

/** Removes every lab namespace whose owner process no longer runs; answers how many. */
export function removeStaleLabs(): number {
  let removed = 0;
  for (const ns of listNamespaces()) {
    const owner = Number(ns.slice(PREFIX.length).split('-')[0]);
    if (Number.isFinite(owner) && owner !== process.pid && !alive(owner)) {
      removeNamespace(ns);
      removed++;
    }
  }
  return removed;
}

export class Lab {
  private constructor(readonly description: LabDescription) {}

  /** Builds the lab: a bridge namespace and one namespace per host, addresses in host order from .11. */
  static async create(hosts: string[]): Promise<Lab> {
    removeStaleLabs();
    const owner = process.pid;
    const bridge = `${PREFIX}${owner}-br`;
    const description: LabDescription = { owner, bridge, hosts: {} };
    const lab = new Lab(description);
    const all = [bridge, ...hosts.map((h) => `${PREFIX}${owner}-${h}`)];
    lab.startWatchdog(all);
    try {
      await run('ip', ['netns', 'add', bridge]);
      await run('ip', ['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge']);
      await run('ip', ['-n', bridge, 'link', 'set', 'br0', 'up']);
      for (const [i, host] of hosts.entries()) {
        const ns = `${PREFIX}${owner}-${host}`;
        const ip = `${SUBNET}.${11 + i}`;
        const ip2 = `${SUBNET}.${111 + i}`;
        await run('ip', ['netns', 'add', ns]);
        await run('ip', ['-n', bridge, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        await run('ip', ['-n', bridge, 'link', 'set', `v${i}`, 'master', 'br0', 'up']);
        await run('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
        await run('ip', ['-n', ns, 'addr', 'add', `${ip2}/24`, 'dev', 'eth0']);
        await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
        await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        description.hosts[host] = { ns, ip, ip2 };
      }
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  /** The lab described by `Lab.describe()` in another process (the runner inside the lab). */
  static attach(description: LabDescription): Lab {
    return new Lab(description);
  }

  get hosts(): string[] {
    return Object.keys(this.description.hosts);
  }

  ip(host: string): string {
    const h = this.description.hosts[host];
    if (!h) throw new Error(`no host ${host} in the lab`);
    return h.ip;
  }

  ns(host: string): string {
    const h = this.description.hosts[host];
    if (!h) throw new Error(`no host ${host} in the lab`);
    return h.ns;
  }

  /** Starts `command` on `host` (inside its namespace; `ip netns exec` execs, so the pid is the program's). */
  spawn(host: string, command: string, args: string[], options: SpawnOptions = {}): ManagedProcess {
    return startProcess('ip', ['netns', 'exec', this.ns(host), command, ...args], options);
  }

  /** Runs a command on `host` to its end and answers its output. */
  async exec(host: string, command: string, args: string[], input?: string): Promise<string> {
    if (input === undefined) return (await run('ip', ['netns', 'exec', this.ns(host), command, ...args])).stdout;
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', this.ns(host), command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let errText = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (errText += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} on ${host}: exit ${code}: ${errText.trim()}`))));
      child.stdin.end(input);
    });
  }

  /**
   * Makes the network exactly `state`: every host's rule set is replaced at once (one nft transaction per
   * host), so healing is `applyNetwork({ drops: [], losses: [] })`.
   */
  async applyNetwork(state: NetworkState): Promise<void> {
    const ips = Object.fromEntries(this.hosts.map((h) => [h, this.ip(h)]));
    await Promise.all(this.hosts.map((h) => this.exec(h, 'nft', ['-f', '-'], rulesFor(h, state, ips))));
  }

  /**
   * Sends `host`'s new connections to `target` through a delay proxy running on `host` (nftables DNAT to
   * the proxy, whose own upstream connections leave from the host's second address and are not
   * redirected). Connections already open are not affected. Answers a function that removes the detour.
   */
  async delayPath(host: string, target: { host: string; port: number }, delayMs: number, jitterMs: number, proxyScript: string): Promise<() => Promise<void>> {
    const { ip, ip2 } = this.description.hosts[host] ?? {};
    if (!ip || !ip2) throw new Error(`no host ${host} in the lab`);
    const listenPort = 40_000 + (target.port % 20_000);
    const proxy = this.spawn(host, process.execPath, [
      proxyScript,
      ip,
      String(listenPort),
      target.host,
      String(target.port),
      ip2,
      String(delayMs),
      String(jitterMs),
    ]);
    await new Promise<void>((resolve, reject) => {
      proxy.child.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
      void proxy.exited.then((code) => reject(new Error(`delay proxy on ${host} exited (${code}): ${proxy.output()}`)));
    });
    const table = 'chaosdelay';
    await this.exec(
      host,
      'nft',
      ['-f', '-'],
      [
        `table ip ${table} {`,
        '  chain output { type nat hook output priority -100; policy accept; }',
        '}',
        `flush table ip ${table}`,
        `add rule ip ${table} output ip saddr != ${ip2} ip daddr ${target.host} tcp dport ${target.port} dnat to ${ip}:${listenPort}`,
        '',
      ].join('\n'),
    );
    return async () => {
      await this.exec(host, 'nft', ['delete', 'table', 'ip', table]).catch(() => undefined);
      await proxy.stop('SIGKILL');
    };
  }

  /** Kills everything in the lab and deletes its namespaces (rules go with them). Synchronous: safe in exit handlers. */
  destroy(): void {
    for (const { ns } of Object.values(this.description.hosts)) removeNamespace(ns);
    removeNamespace(this.description.bridge);
  }

  /** A detached shell that removes the lab once this process is gone, however it ended. */
  private startWatchdog(namespaces: string[]): void {
    const script = [
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
      `for ns in ${namespaces.join(' ')}; do`,
      '  for p in $(ip netns pids $ns 2>/dev/null); do kill -9 $p 2>/dev/null; done',
      '  ip netns del $ns 2>/dev/null',
      'done',
    ].join('\n');
    const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
    child.unref();
  }
}
