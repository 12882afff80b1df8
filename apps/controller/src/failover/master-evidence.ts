/**
 * The master's own evidence (orchestrator's rule: the replicas must agree), as a pure function of what
 * the leader read at decision time. The agents' quorum says the master is unreachable *from the agents*;
 * this says whether it is dead:
 *
 * - it answers the leader's own probe → alive (the agents are cut off from it, not the other way round);
 * - a replica still follows it with its link up and heard from it *after* the newest valid reply any
 *   agent had, by more than one probe interval → alive (it still streams to its replicas).
 *
 * A hung master is never taken for alive: its replicas last heard from it at most one probe interval
 * after the agents did. Redis reports `master_last_io_seconds_ago` in whole seconds, so the time a
 * replica last heard from the master is taken at its earliest (`now − (s + 1) s`); at `downAfterMs`
 * under about two seconds a master cut from the agents *and* the leader but not from its replicas can
 * therefore go unnoticed by this rule (the leader's probe is the evidence that counts there).
 */

export interface ReplicaLinkView {
  host: string;
  port: number;
  /** What the replica said just now, or why it could not. */
  probe: { ok: true; role: 'master' | 'replica'; masterHost?: string; masterPort?: number; linkUp?: boolean; lastIoS?: number } | { ok: false; error: string };
}

export interface MasterEvidenceInput {
  now: number;
  master: { host: string; port: number };
  /** The leader's own probe of the master (ROLE, short timeout). */
  leaderProbe: { answered: true; role: string } | { answered: false; error: string };
  replicas: readonly ReplicaLinkView[];
  /** The newest valid reply any agent had from the master (controller clock), if any. */
  agentsLastOkAt: number | undefined;
  /** The agents' probe interval (the slack on "after the agents lost it"). */
  probeIntervalMs: number;
}

export interface ReplicaEvidence {
  replica: string;
  follows?: string;
  linkUp?: boolean;
  lastIoS?: number;
  error?: string;
  /** This replica's reading is evidence that the master is alive. */
  saysAlive: boolean;
}

export interface MasterEvidence {
  alive: boolean;
  /** One line for events and the console. */
  summary: string;
  leader: { answered: boolean; role?: string; error?: string };
  replicas: ReplicaEvidence[];
}

const same = (host: string | undefined, port: number | undefined, n: { host: string; port: number }) =>
  host !== undefined && host.toLowerCase() === n.host.toLowerCase() && port === n.port;

export function masterEvidence(input: MasterEvidenceInput): MasterEvidence {
  const replicas = input.replicas.map((r): ReplicaEvidence => {
    const replica = `${r.host}:${r.port}`;
    if (!r.probe.ok) return { replica, error: r.probe.error, saysAlive: false };
    const p = r.probe;
    const follows = p.role === 'replica' ? `${p.masterHost ?? '?'}:${p.masterPort ?? '?'}` : undefined;
    const following = p.role === 'replica' && same(p.masterHost, p.masterPort, input.master) && p.linkUp === true;
    const heardAt = p.lastIoS !== undefined && p.lastIoS >= 0 ? input.now - (p.lastIoS + 1) * 1000 : undefined;
    const saysAlive = following && heardAt !== undefined && (input.agentsLastOkAt === undefined || heardAt > input.agentsLastOkAt + input.probeIntervalMs);
    return { replica, ...(follows ? { follows } : {}), linkUp: p.linkUp, ...(p.lastIoS !== undefined ? { lastIoS: p.lastIoS } : {}), saysAlive };
  });
  const leader = input.leaderProbe.answered ? { answered: true, role: input.leaderProbe.role } : { answered: false, error: input.leaderProbe.error };
  const streaming = replicas.filter((r) => r.saysAlive).map((r) => r.replica);
  const alive = input.leaderProbe.answered || streaming.length > 0;
  const summary = input.leaderProbe.answered
    ? `the master answers the leader's probe (role ${input.leaderProbe.role})`
    : streaming.length > 0
      ? `replicas still receive the master's stream after the agents lost it: ${streaming.join(', ')}`
      : 'the master does not answer the leader and no replica still hears from it';
  return { alive, summary, leader, replicas };
}
