import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SentinelClientName, SentinelWriter } from '../../libs/testing/src/sentinel-writers.js';
import { SentinelClientRig, storedSeqs, waitWriting } from './sentinel-client-rig.js';

/**
 * Longest write outage accepted after a master crash with down-after 1 s: about 3 s on an idle machine
 * (Redis Sentinel: 2.5 to 4.5 s on the same group, BENCHMARKS.md); the margin is for a loaded CI machine.
 * What fails without the endpoint's fixes is a client that never writes again.
 */
const CRASH_OUTAGE_MS = 10_000;
/** … and after a switchover (about 1 s idle). */
const SWITCHOVER_OUTAGE_MS = 5000;

/**
 * The client matrix: `clients` write concurrently through Vigil's two Sentinel endpoints (and nothing
 * else), with their default options, through a switchover, a restart of the controller behind their first
 * endpoint, and a master crash. After each, every client writes again, to the master Vigil now records.
 */
export function describeSentinelClients(title: string, clients: readonly SentinelClientName[]): void {
  describe(title, () => {
    const rig = new SentinelClientRig();
    let writers: SentinelWriter[] = [];

    beforeAll(async () => {
      await rig.start();
      writers = await rig.writers(clients);
      await waitWriting(writers, Date.now(), 5000);
    }, 90_000);

    afterAll(async () => {
      await Promise.all(writers.map((w) => w.stop()));
      await rig.stop();
    });

    it('a switchover: every client writes to the new master within 5 s, and no acknowledged write is lost', async () => {
      const { at, to } = await rig.switchover();
      const outage = await waitWriting(writers, at, 15_000);
      for (const w of writers) {
        expect(outage.get(w.client), `${w.client} outage after the switchover`).toBeLessThan(SWITCHOVER_OUTAGE_MS);
        // Every write acknowledged so far, before and after the switchover, is on the new master.
        const acked = w.acks.map((a) => a.seq); // taken before reading the list
        const stored = await storedSeqs(to, w);
        expect(
          acked.filter((s) => !stored.has(s)),
          `${w.client}: acknowledged writes missing on the new master`,
        ).toEqual([]);
      }
    }, 30_000);

    it('a restart of the controller behind the first endpoint: every client keeps writing and follows the next failover', async () => {
      const { at } = await rig.restartController();
      await waitWriting(writers, at, 10_000);
      const master = rig.server((await rig.master()).port);
      for (const w of writers) {
        const acked = w.acks.map((a) => a.seq);
        const stored = await storedSeqs(master, w);
        expect(
          acked.filter((s) => !stored.has(s)),
          `${w.client}: acknowledged writes missing`,
        ).toEqual([]);
      }
    }, 40_000);

    it('a master crash (SIGKILL) seen first by the endpoints alone: flagged disconnected at once, and every client writes to the promoted replica within 10 s', async () => {
      const { at, to, flagsSeen } = await rig.crashMaster();
      // As Sentinel's link, each endpoint's own connection to the master saw the crash at once, before any
      // agent reported (the agents were frozen): node-redis 5 re-asks within milliseconds and, shown a
      // master without the flag, connects to the dead address and waits on it for good.
      for (const f of flagsSeen) expect(f.split(',')).toContain('disconnected');
      const outage = await waitWriting(writers, at, 20_000);
      const settled = Date.now();
      await waitWriting(writers, settled, 5000);
      for (const w of writers) {
        expect(outage.get(w.client), `${w.client} outage after the crash`).toBeLessThan(CRASH_OUTAGE_MS);
        // Writes acknowledged once the failover was over went to the promoted replica.
        const later = w.acks.filter((a) => a.at > settled).map((a) => a.seq);
        const stored = await storedSeqs(to, w);
        expect(later.length).toBeGreaterThan(0);
        expect(
          later.filter((s) => !stored.has(s)),
          `${w.client}: writes acknowledged after the failover missing on the new master`,
        ).toEqual([]);
      }
    }, 40_000);
  });
}
