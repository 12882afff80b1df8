import { describe, expect, it } from 'vitest';
import { incidentMarkdown } from './incident';

describe('incidentMarkdown', () => {
  it('writes one table row per event in UTC, with the votes and reasons, and escapes pipes', () => {
    const md = incidentMarkdown('auto of orders to epoch 3', [
      {
        id: '1',
        at: '2026-12-02T10:00:00.000Z',
        type: 'node.odown',
        cluster: 'orders',
        actor: 'controller:a',
        data: { node: { host: '10.0.0.1', port: 6379 }, from: 'sdown', to: 'odown', sdownVotes: 2, voters: 3, quorum: 2 },
      },
      {
        id: '2',
        at: '2026-12-02T10:00:01.250Z',
        type: 'failover.refused',
        cluster: 'orders',
        actor: 'controller:a',
        data: { code: 'maintenance', reason: 'a | b' },
      },
    ]);
    expect(md).toContain('# auto of orders to epoch 3');
    expect(md).toContain('2 events, 2026-12-02 10:00:00.000 UTC to 2026-12-02 10:00:01.250 UTC.');
    expect(md).toContain(
      '| 2026-12-02 10:00:00.000 UTC | orders | node.odown | controller:a | 10.0.0.1:6379; sdown → odown; 2/3 agents see it down (quorum 2) |',
    );
    expect(md).toContain('| failover.refused | controller:a | code: maintenance; reason: a \\| b |');
  });
});
