import { createHmac } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { findTsig, parseTsigSecret, type SignedRequest, signRequest, TsigError, type TsigKey, verifyResponse } from './tsig.js';
import { encodeMessage, encodeName, encodeRecord, Opcode, RRClass, RRType } from './wire.js';

/*
 * Fixtures: exchanges with BIND 9.18 over TCP (length prefix removed), recorded with a forwarding
 * proxy between the server and `dig -y` / `nsupdate -y hmac-sha256:vigil-key.:<SECRET>`, plus a
 * request of ours signed an hour in the past to provoke BADTIME. RFC 8945 has no TSIG test vectors,
 * so these are the known answers: BIND computed or checked every MAC in them.
 */
const SECRET = 'uNbhQB/piE2sbyn/1ftOn3rIplJI1gQlepc97i/GbV0=';
const KEY: TsigKey = { name: 'vigil-key', algorithm: 'hmac-sha256', secret: parseTsigSecret(SECRET) };

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** `dig +tcp -y ... primary.redis.test A` (with an EDNS OPT record before the TSIG) and BIND's signed answer. */
const DIG = {
  time: 0x6b027f94,
  request: hex(`b35001200001000000000002077072696d6172790572656469730474657374000001000100002904d000000000000c000a000803448569834a78b1
    09766967696c2d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b027f94012c002095472c00a64969405e8d1bcba3b9d8a47dcca64e94ddd9f04f01e11d27a378f9b35000000000`),
  response:
    hex(`b35085000001000100000002077072696d61727905726564697304746573740000010001c00c000100010000003c00040a00000200002904d000000000001c000a001803448569834a78b1010000006b027f94249e84d92df2766e
    09766967696c2d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b027f94012c0020086d4dd609b803d57ac58b5a09441935c0719dc8b2283106901fcc000d430190b35000000000`),
};

/** nsupdate: prereq yxrrset primary A 10.0.0.1, delete primary A, add primary 60 A 10.0.0.2 (compressed names). */
const UPDATE = {
  time: 0x6b027e82,
  request:
    hex(`10032800000100010002000105726564697304746573740000060001077072696d617279c00c000100010000000000040a000001c01c000100ff000000000000c01c000100010000003c00040a000002
    09766967696c2d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b027e82012c0020eee64d1639f062a3911d708d994ecbb1447218bc65a97975b44cb78f534df63c100300000000`),
  response:
    hex(`1003a80000010000000000010572656469730474657374000006000109766967696c2d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b027e82012c0020
    8492c2847f6c7b28ca613363c9ca789c62d82dda012f9a2c45867e681fb6bb29100300000000`),
};

/** dig signed with a wrong secret: BIND answers NOTAUTH with an unsigned TSIG carrying BADSIG. */
const BADSIG = {
  request:
    hex(`a96701200001000000000001077072696d6172790572656469730474657374000001000109766967696c2d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b027e82012c0020
    2b82a2d77e3615522bd85e57edc375aeb51eeb4c9aff76f733fe5035ad1f8676a96700000000`),
  response: hex(
    `a96781090001000000000001077072696d6172790572656469730474657374000001000109766967696c2d6b65790000fa00ff00000000001d0b686d61632d7368613235360000006b027e82012c0000a96700100000`,
  ),
};

/** dig signed with key "nobody.", unknown to the server: NOTAUTH, unsigned, BADKEY. */
const BADKEY = {
  request:
    hex(`510601200001000000000001077072696d61727905726564697304746573740000010001066e6f626f64790000fa00ff00000000003d0b686d61632d7368613235360000006b027e82012c0020
    ba1f06f19fd34e4f82b176ccce10fcf59bb9874bd3f95120de054de6263e0788510600000000`),
  response: hex(
    `510681090001000000000001077072696d61727905726564697304746573740000010001066e6f626f64790000fa00ff00000000001d0b686d61632d7368613235360000006b027e82012c0000510600110000`,
  ),
};

/** Our query signed 3600 s in the past: BIND signs a BADTIME answer and puts its clock (0x6b027f9d) in Other Data. */
const BADTIME = {
  time: 0x6b02718d,
  request:
    hex(`123400000001000000000001077072696d6172790572656469730474657374000001000109766967696c2d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006b02718d012c0020
    78d6a0e6c1bba6ba690ca1292dc0954c67ed75231ebacff99f382a0904982453123400000000`),
  response:
    hex(`123480090001000000000001077072696d6172790572656469730474657374000001000109766967696c2d6b65790000fa00ff0000000000430b686d61632d7368613235360000006b02718d012c0020
    f23cf58be18f15b7ad6e727f9455d0b4508caf0243bf1625e53eaa914cc35ce512340012000600006b027f9d`),
};

/** A recorded request as verifyResponse needs it: its MAC and ID, read from its TSIG RR. */
function recorded(request: Buffer, key: TsigKey = KEY): SignedRequest {
  const found = findTsig(request)!;
  return { wire: request, key, mac: found.tsig.mac, originalId: found.tsig.originalId, timeSigned: found.tsig.timeSigned };
}

/** The request without its TSIG RR, as the signer saw it. */
function unsigned(request: Buffer): Buffer {
  const { record } = findTsig(request)!;
  const message = Buffer.from(request.subarray(0, record.start));
  message.writeUInt16BE(message.readUInt16BE(10) - 1, 10);
  return message;
}

function expectTsigError(fn: () => unknown, code: string, reportedByServer: boolean): TsigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TsigError);
    expect(err).toMatchObject({ code, reportedByServer });
    return err as TsigError;
  }
  throw new Error(`expected TsigError ${code}`);
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u48 = (n: number) => Buffer.from([0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);

/**
 * Signs `response` as a server would (RFC 8945 §4.3.2), assembled here field by field and
 * independently of tsig.ts, for replies BIND cannot be asked for.
 */
function serverSign(response: Buffer, request: SignedRequest, fields: { time: number; error?: number; key?: TsigKey; mac?: Buffer }): Buffer {
  const key = fields.key ?? KEY;
  const name = Buffer.from('09766967696c2d6b657900', 'hex'); // vigil-key.
  const algorithm = Buffer.from('0b686d61632d73686132353600', 'hex'); // hmac-sha256.
  const error = u16(fields.error ?? 0);
  const variables = Buffer.concat([name, u16(255), Buffer.alloc(4), algorithm, u48(fields.time), u16(300), error, u16(0)]);
  const mac =
    fields.mac ??
    createHmac('sha256', key.secret)
      .update(Buffer.concat([u16(request.mac.length), request.mac, response, variables]))
      .digest();
  const rdata = Buffer.concat([algorithm, u48(fields.time), u16(300), u16(mac.length), mac, response.subarray(0, 2), error, u16(0)]);
  const rr = Buffer.concat([name, u16(RRType.TSIG), u16(255), Buffer.alloc(4), u16(rdata.length), rdata]);
  const signed = Buffer.concat([response, rr]);
  signed.writeUInt16BE(response.readUInt16BE(10) + 1, 10);
  return signed;
}

/** A plain NOERROR answer to `request` with one A record. */
function answerTo(request: SignedRequest): Buffer {
  return encodeMessage({
    id: request.originalId,
    opcode: Opcode.QUERY,
    flags: 0x8400,
    questions: [{ name: 'primary.redis.test.', type: RRType.A, class: RRClass.IN }],
    answers: [{ name: 'primary.redis.test.', type: RRType.A, class: RRClass.IN, ttl: 60, rdata: Buffer.from([10, 0, 0, 7]) }],
  });
}

const QUERY = encodeMessage({ id: 0x4242, opcode: Opcode.QUERY, questions: [{ name: 'primary.redis.test.', type: RRType.A, class: RRClass.IN }] });
const NOW = 1_800_000_000;

describe('parseTsigSecret', () => {
  it('decodes a BIND secret', () => {
    expect(parseTsigSecret(SECRET).toString('base64')).toBe(SECRET);
    expect(parseTsigSecret(` ${SECRET.slice(0, 20)}\n${SECRET.slice(20)} `)).toHaveLength(32);
  });

  it('rejects text that is not canonical base64', () => {
    for (const bad of ['', 'not base64!', 'abc', SECRET.replace('=', ''), 'QUJDRA=x', 'QR==']) {
      expect(() => parseTsigSecret(bad), bad).toThrow(RangeError);
    }
  });
});

describe('signRequest', () => {
  it('appends the TSIG RR as the last additional record and counts it', () => {
    const signed = signRequest(QUERY, KEY, { timeSigned: NOW });
    expect(signed.wire.subarray(0, QUERY.length).subarray(12)).toEqual(QUERY.subarray(12));
    expect(signed.wire.readUInt16BE(10)).toBe(1);
    // Decoded by an independent decoder.
    const decoded = dnsPacket.decode(signed.wire);
    expect(decoded.additionals).toHaveLength(1);
    expect(decoded.additionals![0]).toMatchObject({ name: 'vigil-key', type: 'TSIG', class: 'ANY', ttl: 0 });
    const { tsig } = findTsig(signed.wire)!;
    expect(tsig).toMatchObject({ algorithm: 'hmac-sha256.', timeSigned: NOW, fudge: 300, originalId: 0x4242, error: 0, otherData: Buffer.alloc(0) });
    expect(tsig.mac).toEqual(signed.mac);
    expect(signed.mac).toHaveLength(32);
  });

  it('reproduces the request dig signed, byte for byte (EDNS query)', () => {
    expect(signRequest(unsigned(DIG.request), KEY, { timeSigned: DIG.time }).wire).toEqual(DIG.request);
  });

  it('reproduces the UPDATE nsupdate signed, byte for byte (compressed names)', () => {
    expect(signRequest(unsigned(UPDATE.request), KEY, { timeSigned: UPDATE.time }).wire).toEqual(UPDATE.request);
  });

  it('computes the MAC over the message and the RFC 8945 §4.3.3 variables (hand-assembled digest input)', () => {
    const digestInput = Buffer.concat([
      unsigned(DIG.request),
      hex('09 766967696c2d6b6579 00'), // key name, canonical wire form
      hex('00ff'), // class ANY
      hex('00000000'), // TTL
      hex('0b 686d61632d736861323536 00'), // algorithm name
      hex('0000 6b027f94'), // time signed, 48 bits
      hex('012c'), // fudge 300
      hex('0000'), // error
      hex('0000'), // other len
    ]);
    const mac = createHmac('sha256', parseTsigSecret(SECRET)).update(digestInput).digest();
    expect(mac).toEqual(findTsig(DIG.request)!.tsig.mac);
    expect(signRequest(unsigned(DIG.request), KEY, { timeSigned: DIG.time }).mac).toEqual(mac);
  });

  it('uses the canonical (lower-case, absolute) key name', () => {
    const a = signRequest(QUERY, KEY, { timeSigned: NOW });
    const b = signRequest(QUERY, { ...KEY, name: 'VIGIL-Key.' }, { timeSigned: NOW });
    expect(b.wire).toEqual(a.wire);
  });

  it('signs with the current time by default', () => {
    const before = Math.floor(Date.now() / 1000);
    const { timeSigned } = signRequest(QUERY, KEY);
    expect(timeSigned).toBeGreaterThanOrEqual(before);
    expect(timeSigned).toBeLessThanOrEqual(before + 1);
  });
});

describe('verifyResponse against BIND replies', () => {
  it("accepts BIND's signed answer to a query", () => {
    const { tsig, message } = verifyResponse(DIG.response, recorded(DIG.request), { now: DIG.time });
    expect(tsig).toMatchObject({ keyName: 'vigil-key.', algorithm: 'hmac-sha256.', timeSigned: DIG.time, error: 0, originalId: 0xb350 });
    expect(message.readUInt16BE(10)).toBe(1); // the OPT record is left
    expect(DIG.response.subarray(0, message.length).subarray(12)).toEqual(message.subarray(12));
  });

  it("accepts BIND's signed answer to an UPDATE", () => {
    expect(verifyResponse(UPDATE.response, recorded(UPDATE.request), { now: UPDATE.time + 299 }).tsig.error).toBe(0);
  });

  it('surfaces the unsigned BADSIG a wrong secret gets', () => {
    const err = expectTsigError(() => verifyResponse(BADSIG.response, recorded(BADSIG.request)), 'BADSIG', true);
    expect(err.authenticated).toBe(false);
  });

  it('surfaces the unsigned BADKEY an unknown key name gets', () => {
    const nobody = { ...KEY, name: 'nobody' };
    expectTsigError(() => verifyResponse(BADKEY.response, recorded(BADKEY.request, nobody)), 'BADKEY', true);
  });

  it('verifies and surfaces a signed BADTIME, with the server clock', () => {
    const err = expectTsigError(() => verifyResponse(BADTIME.response, recorded(BADTIME.request), { now: BADTIME.time }), 'BADTIME', true);
    expect(err.authenticated).toBe(true);
    expect(err.message).toContain('server clock 1795325853, 3600 s from ours');
  });

  it('rejects each single-byte change to a signed reply', () => {
    const request = recorded(DIG.request);
    // The header ID (byte 0, 1) is not covered: the MAC uses the Original ID; the client compares the ID itself.
    for (let i = 2; i < DIG.response.length; i++) {
      const tampered = Buffer.from(DIG.response);
      tampered[i] ^= 0x01;
      expect(() => verifyResponse(tampered, request, { now: DIG.time }), `byte ${i}`).toThrow(TsigError);
    }
  });
});

describe('verifyResponse', () => {
  const request = signRequest(QUERY, KEY, { timeSigned: NOW });

  it('accepts a reply signed with the same key over the request MAC', () => {
    const reply = serverSign(answerTo(request), request, { time: NOW + 2 });
    const { message } = verifyResponse(reply, request, { now: NOW });
    expect(message).toEqual(answerTo(request));
  });

  it('rejects a tampered reply', () => {
    const reply = serverSign(answerTo(request), request, { time: NOW });
    const rdataAt = reply.indexOf(Buffer.from([10, 0, 0, 7]));
    reply[rdataAt + 3] = 8;
    expectTsigError(() => verifyResponse(reply, request, { now: NOW }), 'BADSIG', false);
  });

  it('rejects a corrupted MAC', () => {
    const reply = serverSign(answerTo(request), request, { time: NOW });
    reply[reply.length - 7] ^= 0x80; // last MAC byte, before Original ID, Error, Other Len
    expectTsigError(() => verifyResponse(reply, request, { now: NOW }), 'BADSIG', false);
  });

  it('rejects a reply signed with another secret', () => {
    const other = { ...KEY, secret: Buffer.alloc(32, 7) };
    const reply = serverSign(answerTo(request), request, { time: NOW, key: other });
    expectTsigError(() => verifyResponse(reply, request, { now: NOW }), 'BADSIG', false);
  });

  it('rejects a reply signed with another key name', () => {
    const reply = serverSign(answerTo(request), request, { time: NOW });
    expectTsigError(() => verifyResponse(reply, { ...request, key: { ...KEY, name: 'other-key' } }, { now: NOW }), 'BADKEY', false);
  });

  it('rejects a reply that is not bound to this request', () => {
    const earlier = signRequest(QUERY, KEY, { timeSigned: NOW - 1 });
    const reply = serverSign(answerTo(earlier), earlier, { time: NOW });
    expectTsigError(() => verifyResponse(reply, request, { now: NOW }), 'BADSIG', false);
  });

  it('rejects a reply signed outside the fudge window, either way', () => {
    const late = serverSign(answerTo(request), request, { time: NOW - 301 });
    expectTsigError(() => verifyResponse(late, request, { now: NOW }), 'BADTIME', false);
    const early = serverSign(answerTo(request), request, { time: NOW + 301 });
    expectTsigError(() => verifyResponse(early, request, { now: NOW }), 'BADTIME', false);
    const edge = serverSign(answerTo(request), request, { time: NOW - 300 });
    expect(() => verifyResponse(edge, request, { now: NOW })).not.toThrow();
  });

  it('rejects an unsigned reply', () => {
    expectTsigError(() => verifyResponse(answerTo(request), request, { now: NOW }), 'UNSIGNED', false);
  });

  it('rejects a TSIG record without a MAC and without an error', () => {
    const reply = serverSign(answerTo(request), request, { time: NOW, mac: Buffer.alloc(0) });
    expectTsigError(() => verifyResponse(reply, request, { now: NOW }), 'UNSIGNED', false);
  });

  it('rejects a truncated MAC', () => {
    const full = createHmac('sha256', KEY.secret).update('x').digest();
    const reply = serverSign(answerTo(request), request, { time: NOW, mac: full.subarray(0, 16) });
    expectTsigError(() => verifyResponse(reply, request, { now: NOW }), 'BADTRUNC', false);
  });

  it('rejects a TSIG record that is not the last additional record', () => {
    const reply = serverSign(answerTo(request), request, { time: NOW });
    const extra = encodeRecord({ name: 'x.', type: RRType.A, class: RRClass.IN, ttl: 0, rdata: Buffer.from([1, 2, 3, 4]) });
    const moved = Buffer.concat([reply, extra]);
    moved.writeUInt16BE(reply.readUInt16BE(10) + 1, 10);
    expectTsigError(() => verifyResponse(moved, request, { now: NOW }), 'FORMERR', false);
  });

  it('reports a signed server-side TSIG error after checking the MAC', () => {
    const reply = serverSign(answerTo(request), request, { time: NOW, error: 22 });
    const err = expectTsigError(() => verifyResponse(reply, request, { now: NOW }), 'BADTRUNC', true);
    expect(err.authenticated).toBe(true);
  });

  it('rejects garbage', () => {
    expectTsigError(() => verifyResponse(Buffer.from('nonsense'), request), 'FORMERR', false);
    expectTsigError(() => verifyResponse(Buffer.concat([answerTo(request), encodeName('trailing.')]), request), 'FORMERR', false);
  });
});
