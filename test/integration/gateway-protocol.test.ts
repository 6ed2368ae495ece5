/**
 * The voice protocol on a real socket (loopback, `ws` client): every bad input gets its coded
 * error and the connection goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FRAME_KIND } from '../../src/protocol/frame-header.js';
import { CLOSE_CODES } from '../../src/protocol/messages.js';
import { startTestServer, type TestServer } from '../gateway/test-server.js';
import { WsTestClient, startMessage } from '../gateway/ws-test-client.js';

const MAX_FRAME_BYTES = 4096;
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({
    'server.maxFrameBytes': MAX_FRAME_BYTES,
    'server.maxQueuedFrames': 4,
  });
});
afterAll(async () => {
  await t.server.close();
});

const callerFrame = (seq: number, bytes = 640): Uint8Array =>
  encodeFrame(
    { kind: FRAME_KIND.callerAudio, stream: 0, seq, timestampMs: seq * 20 },
    new Uint8Array(bytes),
  );

async function connect(): Promise<WsTestClient> {
  return WsTestClient.connect(t.server.wsUrl);
}

describe('before session.start', () => {
  it('answers audio with UT_ERR_SESSION_NOT_STARTED and still accepts session.start', async () => {
    const c = await connect();
    c.sendBinary(callerFrame(0));
    const err = await c.next();
    expect(err).toMatchObject({
      type: 'error',
      code: 'UT_ERR_SESSION_NOT_STARTED',
      recoverable: true,
      sessionId: '',
    });

    const started = await c.start();
    expect(started).toMatchObject({ mode: 'agent', resumed: false });
    c.close();
  });

  it('answers a message other than session.start with UT_ERR_SESSION_NOT_STARTED', async () => {
    const c = await connect();
    c.sendJson({ type: 'ping', id: 1, clientTimeMs: 0 });
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_SESSION_NOT_STARTED' });
    c.close();
  });

  it('rejects another protocol version with UT_ERR_UNSUPPORTED_VERSION and keeps waiting', async () => {
    const c = await connect();
    c.sendJson(startMessage({ version: 2 }));
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_UNSUPPORTED_VERSION', recoverable: true });
    await c.start();
    c.close();
  });

  it('rejects an impossible audio format with UT_ERR_BAD_AUDIO_FORMAT', async () => {
    const c = await connect();
    c.sendJson(
      startMessage({ audio: { codec: 'mulaw', sampleRateHz: 48000, channels: 1, frameMs: 20 } }),
    );
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_BAD_AUDIO_FORMAT' });
    c.sendJson(
      startMessage({ audio: { codec: 'opus', sampleRateHz: 16000, channels: 1, frameMs: 25 } }),
    );
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_BAD_AUDIO_FORMAT' });
    await c.start();
    c.close();
  });
});

describe('after session.start', () => {
  it('passes audio payloads with sequence and timestamp to the session', async () => {
    const c = await connect();
    const started = await c.start();
    c.sendBinary(callerFrame(5, 320));
    c.sendBinary(callerFrame(6, 320));
    await c.roundTrip();

    const session = t.sessions.find((s) => s.id === started.sessionId)!;
    expect(session.frames.map((f) => f.meta)).toEqual([
      { seq: 5, timestampMs: 100 },
      { seq: 6, timestampMs: 120 },
    ]);
    expect(session.frames[0]!.payload.byteLength).toBe(320);
    c.close();
  });

  it('answers broken JSON, unknown types and bad fields with their codes and goes on', async () => {
    const c = await connect();
    await c.start();

    c.sendText('{"type": "ping", ');
    expect(await c.next()).toMatchObject({
      type: 'error',
      code: 'UT_ERR_BAD_JSON',
      recoverable: true,
    });
    c.sendJson({ type: 'session.teleport' });
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_UNKNOWN_MESSAGE' });
    c.sendJson({ type: 'ping', id: 'one' });
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_BAD_MESSAGE' });
    c.sendJson(startMessage());
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_SESSION_ALREADY_STARTED' });

    expect(await c.roundTrip()).toMatchObject({ type: 'pong' });
    c.close();
  });

  it('answers a bad frame header with UT_ERR_BAD_FRAME_HEADER and goes on', async () => {
    const c = await connect();
    const started = await c.start();

    c.sendBinary(new Uint8Array([1, 1, 0]));
    expect(await c.next()).toMatchObject({
      code: 'UT_ERR_BAD_FRAME_HEADER',
      sessionId: started.sessionId,
    });
    const badVersion = callerFrame(0);
    badVersion[0] = 9;
    c.sendBinary(badVersion);
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_BAD_FRAME_HEADER' });
    const agentKind = encodeFrame(
      { kind: FRAME_KIND.agentAudio, stream: 1, seq: 0, timestampMs: 0 },
      new Uint8Array(4),
    );
    c.sendBinary(agentKind);
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_BAD_FRAME_HEADER' });

    c.sendBinary(callerFrame(1));
    await c.roundTrip();
    expect(t.sessions.find((s) => s.id === started.sessionId)!.frames).toHaveLength(1);
    c.close();
  });

  it('answers an oversized frame with UT_ERR_FRAME_TOO_LARGE and keeps the socket', async () => {
    const c = await connect();
    await c.start();
    c.sendBinary(callerFrame(0, MAX_FRAME_BYTES + 1));
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_FRAME_TOO_LARGE', recoverable: true });
    c.sendText(JSON.stringify({ type: 'input.text', text: 'x'.repeat(MAX_FRAME_BYTES + 10) }));
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_FRAME_TOO_LARGE' });
    expect(await c.roundTrip()).toMatchObject({ type: 'pong' });
    c.close();
  });

  it('closes with 1009 only past the library limit (4x maxFrameBytes)', async () => {
    const c = await connect();
    await c.start();
    c.sendBinary(new Uint8Array(MAX_FRAME_BYTES * 4 + 1));
    expect((await c.closed).code).toBe(1009);
  });

  it('drops agent audio past maxQueuedFrames with one UT_ERR_QUEUE_OVERFLOW', async () => {
    const c = await connect();
    await c.start();
    c.sendJson({ type: 'input.text', text: 'burst 20' });
    expect(await c.waitForType('error')).toMatchObject({
      code: 'UT_ERR_QUEUE_OVERFLOW',
      recoverable: true,
    });
    await c.roundTrip();
    expect(c.binaries.length).toBe(4);
    expect(c.pending().filter((e) => e.type === 'error')).toHaveLength(0);
    c.close();
  });

  it('frames agent audio with the protocol header', async () => {
    const c = await connect();
    await c.start();
    c.sendJson({ type: 'input.text', text: 'burst 2' });
    await c.roundTrip();
    const frame = c.binaries[1]!;
    expect(frame.byteLength).toBe(12 + 320);
    expect([
      frame[0],
      frame[1],
      frame.readUInt16BE(2),
      frame.readUInt32BE(4),
      frame.readUInt32BE(8),
    ]).toEqual([1, 2, 1, 1, 20]);
    c.close();
  });

  it('stamps session events with their index', async () => {
    const c = await connect();
    const started = await c.start();
    expect(started.eventIndex).toBe(0);
    expect((await c.roundTrip()).eventIndex).toBe(1);
    c.close();
  });

  it('ends on session.end with session.ended and close 1000', async () => {
    const c = await connect();
    const started = await c.start();
    c.sendJson({ type: 'session.end', reason: 'done' });
    expect(await c.waitForType('session.ended')).toMatchObject({
      reason: 'done',
      sessionId: started.sessionId,
    });
    expect((await c.closed).code).toBe(CLOSE_CODES.normal);
    expect(t.sessions.find((s) => s.id === started.sessionId)!.ended).toBe(true);
  });

  it('ends and closes a session that reports an error it cannot go on from, freeing its slot', async () => {
    const c = await connect();
    const started = await c.start();
    const session = t.sessions.find((s) => s.id === started.sessionId)!;
    const before = t.server.sessionCount();
    session.emit({ type: 'error', code: 'UT_ERR_INTERNAL', message: 'broken', recoverable: false });
    expect(await c.waitForType('error')).toMatchObject({ recoverable: false });
    expect(await c.waitForType('session.ended')).toMatchObject({ sessionId: started.sessionId });
    expect((await c.closed).code).toBe(CLOSE_CODES.internal);
    expect(session.ended).toBe(true);
    expect(t.server.sessionCount()).toBe(before - 1);
  });
});

describe('garbage', () => {
  it('survives random bytes and text on many sockets', async () => {
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const clients = await Promise.all([0, 1, 2, 3].map(() => connect()));
    for (const [i, c] of clients.entries()) {
      if (i % 2 === 0) await c.start();
      for (let k = 0; k < 50; k++) {
        const bytes = new Uint8Array(Math.floor(rand() * 200));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
        if (k % 3 === 0) c.sendText(Buffer.from(bytes).toString('latin1'));
        else c.sendBinary(bytes);
      }
    }
    for (const [i, c] of clients.entries()) {
      if (i % 2 === 1) await c.start();
      expect(await c.roundTrip(99)).toMatchObject({ type: 'pong' });
      c.close();
    }

    const fresh = await connect();
    await fresh.start();
    fresh.close();
  });
});
