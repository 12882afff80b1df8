import { describe, expect, it } from 'vitest';
import { decide, decisionCapacity, odownNeeds } from './quorum.js';

/** The ODOWN denominator is the agents assigned to the cluster, not the agents voting now (PRODUCT.md §3). */
describe('the quorum rule', () => {
  // [assigned, voters, sdownVotes, quorum, expected]
  const cases: [string, number, number, number, number, string][] = [
    ['5 assigned, quorum 2, 2 of 5 see it down', 5, 5, 2, 2, 'sdown'],
    ['5 assigned, quorum 2, 3 of 5 see it down', 5, 5, 3, 2, 'odown'],
    ['3 assigned, quorum 2, 2 see it down', 3, 3, 2, 2, 'odown'],
    ['5 assigned, 3 silent, the 2 voting see it down', 5, 2, 2, 2, 'sdown'],
    ['5 assigned, 2 silent, the 3 voting see it down', 5, 3, 3, 2, 'odown'],
    ['4 assigned, quorum 2, 2 down: half is not a majority', 4, 4, 2, 2, 'sdown'],
    ['5 assigned, quorum 4, 3 down: majority but not quorum', 5, 5, 3, 4, 'sdown'],
    ['1 assigned, quorum 1, 1 down', 1, 1, 1, 1, 'odown'],
    ['3 assigned, nobody voting', 3, 0, 0, 2, 'unknown'],
    ['3 assigned, all voting, none down', 3, 3, 0, 2, 'up'],
    ['fewer assigned than voters is never a smaller denominator', 1, 3, 1, 1, 'sdown'],
  ];
  it.each(cases)('%s', (_name, assigned, voters, sdownVotes, quorum, expected) => {
    expect(decide(assigned, voters, sdownVotes, 0, quorum)).toBe(expected);
  });

  it('needs max(quorum, a strict majority of the assigned) votes', () => {
    expect(odownNeeds(2, 5)).toBe(3);
    expect(odownNeeds(2, 3)).toBe(2);
    expect(odownNeeds(2, 4)).toBe(3);
    expect(odownNeeds(4, 5)).toBe(4);
    expect(odownNeeds(1, 1)).toBe(1);
  });

  it('cannot decide when quorum exceeds the assigned agents, or the usable ones cannot form quorum and majority', () => {
    expect(decisionCapacity(4, 3, 3)).toEqual({ canDecide: false, reason: 'quorum 4 exceeds the 3 agents assigned', assigned: 3, usable: 3 });
    expect(decisionCapacity(1, 0, 0)).toMatchObject({ canDecide: false, reason: 'quorum 1 exceeds the 0 agents assigned' });
    expect(decisionCapacity(2, 5, 2)).toEqual({ canDecide: false, reason: '2 of 5 assigned agents can vote; ODOWN needs 3', assigned: 5, usable: 2 });
    expect(decisionCapacity(5, 5, 4)).toMatchObject({ canDecide: false, reason: '4 of 5 assigned agents can vote; ODOWN needs 5' });
    expect(decisionCapacity(2, 5, 3)).toEqual({ canDecide: true, assigned: 5, usable: 3 });
    expect(decisionCapacity(2, 3, 2)).toEqual({ canDecide: true, assigned: 3, usable: 2 });
  });
});
