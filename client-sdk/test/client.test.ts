import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ServerEvent } from '../../src/protocol/index.js';
import { JitterBuffer } from '../src/jitter-buffer.js';
import { nodeSocketFactory } from '../src/node/node-socket.js';
import { VirtualPlayer } from '../src/node/virtual-player.js';
import { pcm16BytesToFloat } from '../src/pcm.js';
import { linkPlayback } from '../src/playback-link.js';
import type { SocketFactory, SocketLike } from '../src/socket.js';
import { UndertoneClient } from '../src/undertone-client.js';
import { ServerTestDouble } from './server-test-double.js';
import { PCM16_START, until } from './test-helpers.js';

let double: ServerTestDouble | undefined;
let client: UndertoneClient | undefined;
afterEach(async () => {
  client?.close();
  await double?.close();
  client = undefined;
  double = undefined;
});

describe('UndertoneClient against the server test double', () => {
  it('starts a session with the API key in the x-api-key header and streams framed audio', async () => {
    double = await ServerTestDouble.start();
    client = new UndertoneClient({
      url: double.url,
      apiKey: 'secret-key-1',
      socketFactory: nodeSocketFactory,
    });
    const started = await client.start(PCM16_START);

    expect(started).toMatchObject({ type: 'session.started', resumed: false, mode: 'agent' });
    expect(double.session.apiKey).toBe('secret-key-1');
    expect(double.session.start.apiKey).toBeUndefined();

    for (let i = 0; i < 10; i++) client.sendAudio(new Uint8Array(640));
    await until(() => double!.session.frames.length === 10, '10 frames');
    expect(double.session.frames.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(double.session.frames.map((f) => f.timestampMs)).toEqual([
      0, 20, 40, 60, 80, 100, 120, 140, 160, 180,
    ]);
    expect(double.session.frames.every((f) => f.bytes === 640)).toBe(true);
  });

  it('puts the API key in session.start where the socket cannot send headers', async () => {
    double = await ServerTestDouble.start();
    const headerless: SocketFactory = {
      apiKeyInHeader: false,
      open: (url) => new WebSocket(url) as unknown as SocketLike,
    };
    client = new UndertoneClient({
      url: double.url,
      apiKey: 'browser-key',
      socketFactory: headerless,
    });
    await client.start(PCM16_START);
    expect(double.session.start.apiKey).toBe('browser-key');
  });

  it('emits typed events, maps agent audio to its response and reports what was played', async () => {
    double = await ServerTestDouble.start({ responseFrames: 5 });
    client = new UndertoneClient({
      url: double.url,
      socketFactory: nodeSocketFactory,
      pingIntervalMs: 0,
    });
    const deltas: string[] = [];
    const seen: ServerEvent['type'][] = [];
    client.on('response.text.delta', (e) => deltas.push(e.delta));
    client.on('event', (e) => seen.push(e.type));
    const buffer = new JitterBuffer({ targetMs: 40 });
    linkPlayback(client, { buffer, decode: pcm16BytesToFloat, sampleRateHz: 16000 });
    const marks: number[] = [];
    const player = new VirtualPlayer(client, buffer, {
      tickMs: 10,
      reportIntervalMs: 20,
      onFrame: (f) => marks.push(Math.round(f.samples[0]! * 32768)),
    });
    player.start();

    await client.start(PCM16_START);
    client.sendText('hello');
    await until(() => marks.length === 5, 'five agent frames played');
    player.stop();

    expect(deltas.join('')).toBe('you said hello ');
    expect(seen).toEqual([
      'session.started',
      'response.started',
      'response.text.delta',
      'response.text.delta',
      'response.text.delta',
      'response.done',
    ]);
    expect(marks).toEqual([1000, 1001, 1002, 1003, 1004]);
    await until(
      () =>
        double!.session.messages.some((m) => m.type === 'playback.position' && m.playedMs === 100),
      'playback.position of 100 ms',
    );
    const position = double.session.messages.find((m) => m.type === 'playback.position');
    expect(position).toMatchObject({ responseId: `${double.session.id}-r1` });
  });

  it('estimates the clock offset from pongs within half the round trip', async () => {
    double = await ServerTestDouble.start({ clockOffsetMs: 5000 });
    client = new UndertoneClient({
      url: double.url,
      socketFactory: nodeSocketFactory,
      pingIntervalMs: 0,
    });
    await client.start(PCM16_START);
    for (let i = 0; i < 4; i++) {
      const next = client.next('clock', 5000);
      client.ping();
      await next;
    }

    const clock = client.clock!;
    expect(clock.samples).toBe(4);
    expect(Math.abs(clock.offsetMs - 5000)).toBeLessThanOrEqual(clock.errorBoundMs + 0.001);
  });

  it('ends the session with session.ended and closes', async () => {
    double = await ServerTestDouble.start();
    client = new UndertoneClient({ url: double.url, socketFactory: nodeSocketFactory });
    await client.start(PCM16_START);
    for (let i = 0; i < 3; i++) client.sendAudio(new Uint8Array(640));
    const closed = client.next('closed');

    const ended = await client.end('done here');
    expect(ended).toMatchObject({
      type: 'session.ended',
      reason: 'done here',
      stats: { frames: 3 },
    });
    await closed;
    expect(client.state).toBe('closed');
    expect(() => client!.sendAudio(new Uint8Array(4))).toThrow(
      expect.objectContaining({ code: 'UT_CLIENT_BAD_STATE' }),
    );
  });

  it('rejects start() with a coded error when nothing listens', async () => {
    double = await ServerTestDouble.start();
    const url = double.url;
    await double.close();
    double = undefined;
    client = new UndertoneClient({ url, socketFactory: nodeSocketFactory });

    await expect(client.start(PCM16_START)).rejects.toMatchObject({
      code: 'UT_CLIENT_CONNECT_FAILED',
    });
    expect(client.state).toBe('closed');
  });
});
