import { afterEach, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/protocol/index.js';
import { nodeSocketFactory } from '../src/node/node-socket.js';
import { UndertoneClient } from '../src/undertone-client.js';
import { ServerTestDouble, type ServerTestDoubleOptions } from './server-test-double.js';
import { PCM16_START, until } from './test-helpers.js';

let double: ServerTestDouble | undefined;
let client: UndertoneClient | undefined;
afterEach(async () => {
  client?.close();
  await double?.close();
  client = undefined;
  double = undefined;
});

async function setup(options: ServerTestDoubleOptions = {}) {
  double = await ServerTestDouble.start({ prosodyEveryFrames: 5, ...options });
  client = new UndertoneClient({
    url: double.url,
    socketFactory: nodeSocketFactory,
    pingIntervalMs: 0,
    reconnect: { initialDelayMs: 10, maxDelayMs: 80 },
    random: () => 0.5,
  });
  const events: ServerEvent[] = [];
  client.on('event', (e) => events.push(e));
  const closed: unknown[] = [];
  client.on('closed', (e) => closed.push(e));
  await client.start(PCM16_START);
  return { double, client, events, closed };
}

/** Sends `n` frames whose payload carries their running number. */
const sendFrames = (c: UndertoneClient, from: number, n: number) => {
  for (let i = from; i < from + n; i++) c.sendAudio(new Uint8Array(640).fill(i % 256));
};

describe('reconnect and resume', () => {
  it('resumes after a dropped socket: backlog audio and missed events arrive in order, once', async () => {
    const { double, client, events, closed } = await setup();
    const session = double.session;
    sendFrames(client, 0, 20);
    await until(() => session.frames.length === 20, '20 frames before the drop');

    const disconnected = client.next('disconnected');
    double.emit(session, { type: 'vad.speech_started', track: 0, startMs: 300 });
    double.dropAll();
    expect(await disconnected).toMatchObject({ willReconnect: true });

    // While the socket is down the call goes on: audio is captured and the server emits events.
    sendFrames(client, 20, 15);
    double.emit(session, {
      type: 'vad.speech_stopped',
      track: 0,
      segmentId: 'seg-1',
      startMs: 300,
      endMs: 600,
    });
    expect(client.pendingAudioMs).toBe(300);

    const resumed = await client.next('resumed', 5000);
    expect(resumed).toMatchObject({ resumed: true, sessionId: session.id });
    sendFrames(client, 35, 5);
    await until(() => session.frames.length === 40, 'all 40 frames after the resume');

    expect(session.frames.map((f) => f.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(session.frames.map((f) => f.timestampMs)).toEqual(
      Array.from({ length: 40 }, (_, i) => i * 20),
    );

    // Every event the server emitted reached the client exactly once, in order.
    await until(
      () => events.filter((e) => e.eventIndex !== undefined).length === session.events.length,
      'all events',
    );
    const indexed = events.filter((e) => e.eventIndex !== undefined);
    expect(indexed.map((e) => e.eventIndex)).toEqual(session.events.map((e) => e.eventIndex));
    expect(indexed.map((e) => e.type)).toContain('vad.speech_stopped');
    expect(events.filter((e) => e.type === 'session.started')).toHaveLength(2);
    expect(client.state).toBe('live');
    expect(closed).toEqual([]);
    expect(client.stats).toMatchObject({ resumes: 1, resumeFailures: 0 });
  });

  it('starts clean and emits resume-failed when the server cannot resume', async () => {
    const { double, client, events, closed } = await setup({ onResume: 'fail-clean' });
    const first = double.session;
    sendFrames(client, 0, 10);
    await until(() => first.frames.length === 10, '10 frames');

    const disconnected = client.next('disconnected');
    double.dropAll();
    await disconnected;
    sendFrames(client, 10, 5);
    const failed = await client.next('resume-failed', 5000);

    expect(failed.reason).toBe('session expired');
    expect(failed.previousSessionId).toBe(first.id);
    const second = double.sessions.get(failed.session.sessionId)!;
    expect(second.id).not.toBe(first.id);

    // The new session's clock starts at 0: the backlog is renumbered, later frames follow on.
    sendFrames(client, 15, 2);
    await until(() => second.frames.length === 7, '7 frames in the new session');
    expect(second.frames.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(second.frames.map((f) => f.timestampMs)).toEqual([0, 20, 40, 60, 80, 100, 120]);

    // Event numbering restarts with the new session, and its events are not taken for repeats.
    await until(
      () => events.some((e) => e.sessionId === second.id && e.type === 'prosody'),
      'an event of the new session',
    );
    expect(client.state).toBe('live');
    expect(closed).toEqual([]);
  });

  it('starts clean when the server refuses the resume token with an error', async () => {
    const { double, client } = await setup({ onResume: 'error' });
    const first = double.session;
    const disconnected = client.next('disconnected');
    double.dropAll();
    await disconnected;

    const failed = await client.next('resume-failed', 5000);
    expect(failed.reason).toContain('UT_ERR_RESUME_FAILED');
    expect(failed.session.sessionId).not.toBe(first.id);
    expect(client.state).toBe('live');
  });

  it('backs off exponentially with jitter while the server refuses connections', async () => {
    const { double, client } = await setup();
    const attempts: { attempt: number; delayMs: number }[] = [];
    client.on('reconnecting', (e) => attempts.push(e));
    double.refuseConnections = 3;

    double.dropAll();
    await client.next('resumed', 5000);

    // random() = 0.5 gives 3/4 of the capped exponential delay: 10, 20, 40, 80 ms.
    expect(attempts).toEqual([
      { attempt: 1, delayMs: 7.5 },
      { attempt: 2, delayMs: 15 },
      { attempt: 3, delayMs: 30 },
      { attempt: 4, delayMs: 60 },
    ]);
    expect(client.stats.reconnects).toBe(4);
  });

  it('gives up after maxAttempts and says so with closed', async () => {
    double = await ServerTestDouble.start();
    client = new UndertoneClient({
      url: double.url,
      socketFactory: nodeSocketFactory,
      pingIntervalMs: 0,
      reconnect: { initialDelayMs: 5, maxDelayMs: 5, maxAttempts: 2 },
    });
    await client.start(PCM16_START);
    double.refuseConnections = 10;
    const closed = client.next('closed', 5000);
    double.dropAll();

    expect(await closed).toMatchObject({ reason: 'gave up after 2 reconnect attempts' });
    expect(client.state).toBe('closed');
  });
});
