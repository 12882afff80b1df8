import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../apps/controller/src/audit/audit.service.js';
import { EventFeed, type FeedEvent } from '../apps/controller/src/audit/event-feed.service.js';
import { waitFor } from '../libs/testing/src/index.js';
import { freshDatabase, startTestController, type TestController } from './support/controller.js';

/** The live event feed every controller replica runs (SSE, Sentinel pub/sub and webhooks read it). */
describe('EventFeed', () => {
  let controller: TestController;

  beforeAll(async () => {
    controller = await startTestController(await freshDatabase());
  });
  afterAll(() => controller?.close());

  it('delivers new events once each in numeric id order, also across 9 → 10 and 99 → 100, and pages the past in the same order', async () => {
    const feed = controller.app.get(EventFeed);
    const audit = controller.app.get(AuditService);
    const seen: FeedEvent[] = [];
    // The controller writes events of its own meanwhile (leadership); only ours are counted.
    const unsubscribe = feed.subscribe((e) => e.type === 'test.happened' && seen.push(e));
    const from = BigInt(feed.position);
    for (let batch = 0; batch < 6; batch++) {
      await audit.recordMany(Array.from({ length: 20 }, (_, i) => ({ type: 'test.happened', actor: 'test', data: { n: batch * 20 + i } })));
    }
    await waitFor(async () => seen.length >= 120, 10_000, '120 events from the feed');
    unsubscribe();
    const ids = seen.map((e) => BigInt(e.id));
    expect(ids.length).toBe(120);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(seen.map((e) => e.data['n'])).toEqual(Array.from({ length: 120 }, (_, i) => i));
    const past = await feed.since(String(from), undefined, 500);
    expect(past.filter((e) => e.type === 'test.happened').map((e) => e.id)).toEqual(seen.map((e) => e.id));
  });
});
