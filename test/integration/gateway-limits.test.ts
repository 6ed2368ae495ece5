/**
 * Limits, auth and keepalive of the gateway on a real socket: session count, session duration,
 * API keys in headers and in `session.start`, dead-peer detection.
 */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/logger.js';
import { CLOSE_CODES } from '../../src/protocol/messages.js';
import { LIFECYCLE_MESSAGES } from '../../src/gateway/lifecycle-log.js';
import { startTestServer } from '../gateway/test-server.js';
import { WsTestClient } from '../gateway/ws-test-client.js';

const KEY = 'test-key-0123456789';

describe('session limit', () => {
  it('refuses the session past maxSessions with UT_ERR_SESSION_LIMIT and close 4429', async () => {
    const t = await startTestServer({ 'server.maxSessions': 2 });
    const a = await WsTestClient.connect(t.server.wsUrl);
    const b = await WsTestClient.connect(t.server.wsUrl);
    await a.start();
    await b.start();

    const c = await WsTestClient.connect(t.server.wsUrl);
    c.sendJson({
      type: 'session.start',
      version: 1,
      audio: { codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20 },
    });
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_SESSION_LIMIT', recoverable: false });
    expect((await c.closed).code).toBe(CLOSE_CODES.sessionLimit);

    a.sendJson({ type: 'session.end' });
    await a.closed;
    const d = await WsTestClient.connect(t.server.wsUrl);
    await d.start();
    expect(t.server.sessionCount()).toBe(2);
    await t.server.close();
  });
});

describe('duration limit', () => {
  it('ends a session at maxSessionDurationS with UT_ERR_DURATION_LIMIT and close 4408', async () => {
    const t = await startTestServer({ 'server.maxSessionDurationS': 1 });
    const c = await WsTestClient.connect(t.server.wsUrl);
    await c.start();
    expect(await c.waitForType('error')).toMatchObject({
      code: 'UT_ERR_DURATION_LIMIT',
      recoverable: false,
    });
    expect(await c.waitForType('session.ended')).toMatchObject({ reason: 'duration-limit' });
    expect((await c.closed).code).toBe(CLOSE_CODES.durationLimit);
    await t.server.close();
  });
});

describe('auth', () => {
  const authOn = { 'server.authRequired': true, 'server.apiKeys': KEY };

  it('takes a key from x-api-key, Authorization: Bearer or session.start', async () => {
    const t = await startTestServer(authOn);
    const viaHeader = await WsTestClient.connect(t.server.wsUrl, { headers: { 'x-api-key': KEY } });
    await viaHeader.start();
    const viaBearer = await WsTestClient.connect(t.server.wsUrl, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    await viaBearer.start();
    const viaMessage = await WsTestClient.connect(t.server.wsUrl);
    await viaMessage.start({ apiKey: KEY });
    expect(t.server.sessionCount()).toBe(3);
    await t.server.close();
  });

  it('closes with 4401 on a bad header key, before any message', async () => {
    const t = await startTestServer(authOn);
    const c = await WsTestClient.connect(t.server.wsUrl, {
      headers: { 'x-api-key': 'wrong-key-123456' },
    });
    expect(await c.next()).toMatchObject({ code: 'UT_ERR_UNAUTHORIZED', recoverable: false });
    expect((await c.closed).code).toBe(CLOSE_CODES.unauthorized);
    await t.server.close();
  });

  it('closes with 4401 when session.start has no key or a wrong one', async () => {
    const t = await startTestServer(authOn);
    for (const apiKey of [undefined, 'wrong-key-123456']) {
      const c = await WsTestClient.connect(t.server.wsUrl);
      c.sendJson({
        type: 'session.start',
        version: 1,
        audio: { codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20 },
        apiKey,
      });
      expect(await c.next()).toMatchObject({ code: 'UT_ERR_UNAUTHORIZED' });
      expect((await c.closed).code).toBe(CLOSE_CODES.unauthorized);
    }
    expect(t.sessions).toHaveLength(0);
    await t.server.close();
  });

  it('asks for nothing when authRequired is false', async () => {
    const t = await startTestServer({ 'server.apiKeys': KEY });
    const c = await WsTestClient.connect(t.server.wsUrl, {
      headers: { 'x-api-key': 'anything-at-all' },
    });
    await c.start();
    await t.server.close();
  });
});

describe('keepalive', () => {
  it('terminates a peer that stops answering pings and detaches its session', async () => {
    const t = await startTestServer({
      'server.pingIntervalMs': 50,
      'server.resumeGraceMs': 60_000,
    });
    const c = await WsTestClient.connect(t.server.wsUrl, { autoPong: false });
    const started = await c.start();
    const session = t.sessions.find((s) => s.id === started.sessionId)!;
    await session.whenDetached();
    expect((await c.closed).code).toBe(1006);
    expect(session.ended).toBe(false);
    await t.server.close();
    expect(session.ended).toBe(true);
  });

  it('keeps a peer that answers pings', async () => {
    const t = await startTestServer({ 'server.pingIntervalMs': 20 });
    const c = await WsTestClient.connect(t.server.wsUrl);
    await c.start();
    let pings = 0;
    await new Promise<void>((resolve) =>
      c.ws.on('ping', () => {
        if (++pings === 5) resolve();
      }),
    );
    expect(await c.roundTrip()).toMatchObject({ type: 'pong' });
    await t.server.close();
  });
});

describe('lifecycle log', () => {
  it('writes connect, start, end and close lines with durations', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const log = createLogger({ level: 'info', destination });
    const t = await startTestServer({}, { log });
    const c = await WsTestClient.connect(t.server.wsUrl);
    const started = await c.start();
    c.sendJson({ type: 'session.end' });
    await c.closed;
    await t.server.close();

    const byMsg = (msg: string) => lines.find((l) => l.msg === msg);
    expect(byMsg(LIFECYCLE_MESSAGES.connected)).toMatchObject({ remoteAddress: '127.0.0.1' });
    expect(byMsg(LIFECYCLE_MESSAGES.started)).toMatchObject({
      sessionId: started.sessionId,
      mode: 'agent',
    });
    expect(byMsg(LIFECYCLE_MESSAGES.ended)).toMatchObject({
      sessionId: started.sessionId,
      reason: 'client-ended',
    });
    expect(typeof byMsg(LIFECYCLE_MESSAGES.ended)!.durationMs).toBe('number');
    expect(byMsg(LIFECYCLE_MESSAGES.closed)).toMatchObject({
      code: 1000,
      sessionId: started.sessionId,
    });
  });
});
