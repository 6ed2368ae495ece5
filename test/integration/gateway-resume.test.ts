/**
 * Resume on a real socket: a dropped connection's session waits `resumeGraceMs` for its client;
 * the `resumeToken` brings it back with the events missed meanwhile, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../gateway/test-server.js';
import { WsTestClient } from '../gateway/ws-test-client.js';

describe('within the grace', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ 'server.resumeGraceMs': 60_000 });
  });
  afterAll(async () => {
    await t.server.close();
  });

  it('resumes the session and replays what was emitted while detached, in order', async () => {
    const a = await WsTestClient.connect(t.server.wsUrl);
    const started = await a.start();
    await a.roundTrip(1);
    const session = t.sessions.find((s) => s.id === started.sessionId)!;

    const detached = session.whenDetached();
    a.terminate();
    await detached;
    session.emit({ type: 'vad.speech_started', track: 0, startMs: 100 });
    session.emit({
      type: 'transcript.partial',
      track: 0,
      segmentId: 's1',
      committed: 'hi',
      tentative: '',
      lagMs: 0,
    });

    const b = await WsTestClient.connect(t.server.wsUrl);
    const resumed = await b.start({ resumeToken: started.resumeToken as string });
    expect(resumed).toMatchObject({
      sessionId: started.sessionId,
      resumed: true,
      resumeToken: started.resumeToken,
    });
    expect(resumed.resumeFailed).toBeUndefined();

    const first = await b.next();
    const second = await b.next();
    expect([first.type, first.eventIndex, second.type, second.eventIndex]).toEqual([
      'vad.speech_started',
      2,
      'transcript.partial',
      3,
    ]);
    expect(await b.roundTrip(2)).toMatchObject({ eventIndex: 4 });
    expect(b.pending()).toHaveLength(0);
    expect(session.ended).toBe(false);
    expect(t.sessions).toHaveLength(1);
    b.close();
  });

  it('replays from the lastEventIndex the client names', async () => {
    const a = await WsTestClient.connect(t.server.wsUrl);
    const started = await a.start();
    await a.roundTrip(1);
    await a.roundTrip(2);
    const session = t.sessions.find((s) => s.id === started.sessionId)!;
    const detached = session.whenDetached();
    a.terminate();
    await detached;

    const b = await WsTestClient.connect(t.server.wsUrl);
    await b.start({ resumeToken: started.resumeToken as string, lastEventIndex: 1 });
    expect(await b.next()).toMatchObject({ type: 'pong', id: 2, eventIndex: 2 });
    b.close();
  });

  it('refuses a resume that declares another audio format and starts clean', async () => {
    const a = await WsTestClient.connect(t.server.wsUrl);
    const started = await a.start();
    const session = t.sessions.find((s) => s.id === started.sessionId)!;
    const detached = session.whenDetached();
    a.terminate();
    await detached;

    const b = await WsTestClient.connect(t.server.wsUrl);
    const fresh = await b.start({
      resumeToken: started.resumeToken as string,
      audio: { codec: 'mulaw', sampleRateHz: 8000, channels: 1, frameMs: 20 },
    });
    expect(fresh.sessionId).not.toBe(started.sessionId);
    expect(fresh).toMatchObject({
      resumed: false,
      resumeFailed: expect.stringContaining('audio format'),
    });
    b.close();
  });
});

describe('after the grace', () => {
  it('ends the session and starts a clean one with resumeFailed for its token', async () => {
    const t = await startTestServer({ 'server.resumeGraceMs': 50 });
    const a = await WsTestClient.connect(t.server.wsUrl);
    const started = await a.start();
    const session = t.sessions.find((s) => s.id === started.sessionId)!;
    a.terminate();
    await session.whenEnded();
    expect(session.endReason).toBe('resume-timeout');

    const b = await WsTestClient.connect(t.server.wsUrl);
    const fresh = await b.start({ resumeToken: started.resumeToken as string });
    expect(fresh.sessionId).not.toBe(started.sessionId);
    expect(fresh).toMatchObject({
      resumed: false,
      resumeFailed: 'unknown or expired resume token',
    });
    await t.server.close();
  });

  it('ends a dropped session at once when resume is off', async () => {
    const t = await startTestServer({ 'server.resumeGraceMs': 0 });
    const a = await WsTestClient.connect(t.server.wsUrl);
    const started = await a.start();
    const session = t.sessions.find((s) => s.id === started.sessionId)!;
    a.terminate();
    await session.whenEnded();
    expect([session.endReason, session.detachCount]).toEqual(['client-gone', 0]);
    await t.server.close();
  });
});
