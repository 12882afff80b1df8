import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * `X-Vigil-Signature`: `sha256=` and the hex HMAC-SHA256, under the webhook's secret, of
 * `<X-Vigil-Timestamp>.<raw body>`. Signing the timestamp with the body lets a receiver refuse replays.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does: recompute the signature, compare in constant time, and refuse a timestamp
 * further than `toleranceS` from its own clock.
 */
export function verifyWebhook(secret: string, timestamp: string, body: string, signature: string, toleranceS = 300, nowS = Date.now() / 1000): boolean {
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowS - Number(timestamp)) > toleranceS) return false;
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A secret for a webhook created without one: 256 random bits. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export interface WebhookRequest {
  eventType: string;
  eventId: string;
  deliveryId: string;
  secret: string;
  body: string;
  nowS: number;
}

/** The headers of one delivery attempt. */
export function webhookHeaders(r: WebhookRequest): Record<string, string> {
  const timestamp = Math.floor(r.nowS);
  return {
    'Content-Type': 'application/json',
    'User-Agent': 'Vigil-Webhooks/1',
    'X-Vigil-Event': r.eventType,
    'X-Vigil-Event-Id': r.eventId,
    'X-Vigil-Delivery': r.deliveryId,
    'X-Vigil-Timestamp': String(timestamp),
    'X-Vigil-Signature': signWebhook(r.secret, timestamp, r.body),
  };
}
