import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signWebhook, verifyWebhook, webhookHeaders } from './webhook-signature.js';

describe('webhook signatures', () => {
  const body = '{"id":"42","type":"master.changed"}';

  it('is sha256= and the hex HMAC of "<timestamp>.<body>"', () => {
    const expected = createHmac('sha256', 'topsecret-0123456789').update(`1764288000.${body}`).digest('hex');
    expect(signWebhook('topsecret-0123456789', 1764288000, body)).toBe(`sha256=${expected}`);
  });

  it('verifies a good signature and refuses a changed body, another secret or an old timestamp', () => {
    const now = 1764288000;
    const sig = signWebhook('s'.repeat(20), now, body);
    expect(verifyWebhook('s'.repeat(20), String(now), body, sig, 300, now + 10)).toBe(true);
    expect(verifyWebhook('s'.repeat(20), String(now), body + ' ', sig, 300, now)).toBe(false);
    expect(verifyWebhook('t'.repeat(20), String(now), body, sig, 300, now)).toBe(false);
    expect(verifyWebhook('s'.repeat(20), String(now), body, sig, 300, now + 301)).toBe(false);
    expect(verifyWebhook('s'.repeat(20), 'abc', body, sig, 300, now)).toBe(false);
  });

  it('builds the delivery headers', () => {
    const h = webhookHeaders({ eventType: 'master.changed', eventId: '42', deliveryId: 'd-1', secret: 'x'.repeat(16), body, nowS: 1764288000.9 });
    expect(h).toEqual({
      'Content-Type': 'application/json',
      'User-Agent': 'Vigil-Webhooks/1',
      'X-Vigil-Event': 'master.changed',
      'X-Vigil-Event-Id': '42',
      'X-Vigil-Delivery': 'd-1',
      'X-Vigil-Timestamp': '1764288000',
      'X-Vigil-Signature': signWebhook('x'.repeat(16), 1764288000, body),
    });
  });

  it('generates distinct secrets of 256 bits', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});
