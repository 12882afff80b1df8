import { describe, expect, it } from 'vitest';
import type { FeedEvent } from '../audit/event-feed.service.js';
import { eventFrame, StreamSequencer } from './sse.js';

const ev = (id: number, type = 'cluster.updated', data: Record<string, unknown> = {}): FeedEvent => ({
  id: String(id),
  at: '2025-11-28T10:00:00.000Z',
  type,
  cluster: 'orders',
  actor: 'token:ops',
  data,
});

describe('eventFrame', () => {
  it('writes id, event and one data line, ended by a blank line', () => {
    const frame = eventFrame(ev(7, 'master.changed', { note: 'two\nlines\r\n' }), '7');
    expect(frame).toBe(`id: 7\nevent: master.changed\ndata: ${JSON.stringify(ev(7, 'master.changed', { note: 'two\nlines\r\n' }))}\n\n`);
    expect(frame.split('\n')).toHaveLength(5);
    expect(JSON.parse(frame.split('\n')[2]!.slice('data: '.length))).toEqual(ev(7, 'master.changed', { note: 'two\nlines\r\n' }));
  });
});

describe('StreamSequencer', () => {
  it('sends what was replayed once, even when it also arrives live', () => {
    const s = new StreamSequencer(2n);
    expect([3, 4, 5].map((id) => s.next(ev(id)))).toEqual(['3', '4', '5']);
    expect(s.next(ev(4))).toBeUndefined();
    expect(s.next(ev(5))).toBeUndefined();
    expect(s.next(ev(6))).toBe('6');
    expect(s.resumeId).toBe('6');
  });

  it('sends an event committed late under the position reached, so the resume id never goes back', () => {
    const s = new StreamSequencer(10n);
    expect(s.next(ev(12))).toBe('12');
    expect(s.next(ev(11))).toBe('12');
    expect(s.next(ev(11))).toBeUndefined();
    expect(s.resumeId).toBe('12');
  });

  it('skips events at or before where the client started', () => {
    const s = new StreamSequencer(10n);
    expect(s.next(ev(9))).toBeUndefined();
    expect(s.next(ev(10))).toBeUndefined();
    expect(s.next(ev(11))).toBe('11');
  });

  it('remembers a bounded number of ids', () => {
    const s = new StreamSequencer(0n);
    for (let id = 1; id <= 10_000; id++) s.next(ev(id));
    expect(s.next(ev(9_999))).toBeUndefined();
    expect(s.next(ev(1))).toBe('10000');
  });
});
