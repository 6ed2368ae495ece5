/**
 * The Twilio endpoint's translation between Media Streams messages and a voice session, over a
 * real socket on loopback, with the gateway's session test double behind it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import {
  parseMarkName,
  parseTwilioMessage,
  markName,
} from '../../../src/gateway/twilio/twilio-messages.js';
import { createSessionTestDoubleFactory, unusedEnginesTestDouble } from '../session-test-double.js';
import {
  startTwilioTestServer,
  TwilioTestClient,
  type TwilioTestServer,
} from './twilio-test-client.js';

const config = loadConfig({ env: {}, overrides: { 'log.level': 'silent' } });
let server: TwilioTestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(cfg = config) {
  const { createSession, sessions } = createSessionTestDoubleFactory();
  server = await startTwilioTestServer({
    config: cfg,
    createSession,
    engines: () => unusedEnginesTestDouble,
  });
  const client = await TwilioTestClient.connect(server.url);
  return { sessions, client };
}

describe('Twilio media stream endpoint', () => {
  it('hangs up a stream that went silent (a dead peer) and ends its session', async () => {
    const quick = loadConfig({
      env: {},
      overrides: { 'log.level': 'silent', 'server.pingIntervalMs': 100 },
    });
    const { sessions, client } = await setup(quick);
    client.start({ mode: 'transcribe' });
    client.media(new Uint8Array(160));
    await client.until(() => sessions.length === 1);
    // No more messages: after two ping intervals of silence the server closes the call.
    expect(await client.closed).toBe(1001);
    expect(sessions[0]!.ended).toBe(true);
  });

  it('starts a mu-law 8 kHz session with the mode from a custom parameter and feeds it inbound audio', async () => {
    const { sessions, client } = await setup();
    client.start({ mode: 'agent', campaign: 'spring' });
    const payload = Uint8Array.from({ length: 160 }, (_, i) => i);
    client.media(payload);
    client.send({
      event: 'media',
      streamSid: client.streamSid,
      media: { track: 'outbound', chunk: '1', timestamp: '0', payload: 'AAAA' },
    });
    client.send({
      event: 'dtmf',
      streamSid: client.streamSid,
      dtmf: { track: 'inbound_track', digit: '5' },
    });
    client.send({ event: 'nonsense' });
    await client.until(() => sessions[0]?.frames.length === 1);

    const session = sessions[0]!;
    expect(session.start).toMatchObject({
      mode: 'agent',
      audio: { codec: 'mulaw', sampleRateHz: 8000, channels: 1, frameMs: 20 },
      output: { codec: 'mulaw', sampleRateHz: 8000 },
      metadata: { transport: 'twilio', streamSid: client.streamSid, campaign: 'spring' },
    });
    expect(session.frames[0]!.payload).toEqual(payload);
    expect(session.frames[0]!.meta).toEqual({ seq: 0, timestampMs: 0 });
  });

  it('sends agent audio as media with marks, turns echoed marks into playback positions, and clears on cancel', async () => {
    const { sessions, client } = await setup();
    client.start({ mode: 'agent' });
    await client.until(() => sessions.length === 1);
    const session = sessions[0]!;

    session.handleMessage({ type: 'input.text', text: 'burst 25' }); // 25 frames of 20 ms from r1
    await client.until(() => client.of('media').length === 25);
    const marks = client.of('mark').map((m) => parseMarkName(m.mark.name)!);
    expect(marks.map((m) => m.playedMs)).toEqual([200, 400]);
    expect(Buffer.from(client.of('media')[0]!.media.payload, 'base64')).toHaveLength(320);
    expect(client.received.every((m) => m.streamSid === client.streamSid)).toBe(true);

    // Twilio echoes a mark once the caller has heard the audio before it.
    client.mark(client.of('mark')[1]!.mark.name);
    await client.until(() => session.messages.some((m) => m.type === 'playback.position'));
    expect(session.messages.find((m) => m.type === 'playback.position')).toEqual({
      type: 'playback.position',
      responseId: 'r1',
      playedMs: 400,
    });

    session.emit({
      type: 'response.done',
      responseId: 'r1',
      text: '',
      audioMs: 500,
      timings: {} as never,
    });
    await client.until(() => client.of('mark').length === 3);
    expect(parseMarkName(client.of('mark')[2]!.mark.name)!.playedMs).toBe(500);

    session.emit({
      type: 'response.cancelled',
      responseId: 'r1',
      reason: 'barge-in',
      playedMs: 400,
      playedText: '',
      clearAudio: true,
    });
    await client.until(() => client.of('clear').length === 1);
    // Marks flushed by the clear say nothing about what was heard.
    const before = session.messages.length;
    client.mark(client.of('mark')[2]!.mark.name);
    client.stop();
    await client.closed;
    expect(session.messages.length).toBe(before);
  });

  it('ends the session on stop and closes the socket normally', async () => {
    const { sessions, client } = await setup();
    client.start();
    await client.until(() => sessions.length === 1);
    client.stop();
    expect(await client.closed).toBe(1000);
    expect(sessions[0]!.ended).toBe(true);
    expect(sessions[0]!.endReason).toBe('twilio-stop');
    expect(sessions[0]!.start.mode).toBe('agent'); // config default mode
  });

  it('ends the session when Twilio drops the socket', async () => {
    const { sessions, client } = await setup();
    client.start({ mode: 'transcribe' });
    await client.until(() => sessions.length === 1);
    (client as unknown as { ws: { terminate(): void } }).ws.terminate();
    await sessions[0]!.whenEnded();
    expect(sessions[0]!.endReason).toBe('client-gone');
  });

  it('refuses a stream without a valid apiKey parameter when auth is required', async () => {
    const cfg = loadConfig({
      env: {},
      overrides: { 'server.authRequired': true, 'server.apiKeys': 'k-12345678' },
    });
    const { sessions, client } = await setup(cfg);
    client.start({ apiKey: 'wrong' });
    expect(await client.closed).toBe(1008);
    expect(sessions).toHaveLength(0);

    const ok = await TwilioTestClient.connect(server!.url);
    ok.start({ apiKey: 'k-12345678' });
    await ok.until(() => sessions.length === 1);
    expect(sessions[0]!.start.metadata).not.toHaveProperty('apiKey');
  });
});

describe('parseTwilioMessage', () => {
  it('turns bad input into reasons, never throws', () => {
    for (const bad of [
      '',
      'null',
      '[]',
      '{"event":"media"}',
      '{"event":"media","media":{"payload":"!!"}}',
      '{"event":"start"}',
      '{"event":"mark"}',
    ]) {
      expect(parseTwilioMessage(bad).ok).toBe(false);
    }
  });

  it('round-trips mark names', () => {
    expect(parseMarkName(markName('abc@def-r1', 1234.4))).toEqual({
      responseId: 'abc@def-r1',
      playedMs: 1234,
    });
    expect(parseMarkName('no-at-sign')).toBeUndefined();
  });
});
