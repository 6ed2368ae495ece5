/**
 * Phone calls through the Twilio endpoint end to end: a client speaking Twilio's Media Streams
 * messages, on loopback, into real sessions (`createSession`) with real engines on fixture
 * models and the emotion stage. Transcribe mode: transcripts, emotion and the JSONL sink come
 * out; agent mode: the agent's voice comes back as mu-law `media` with `mark`s.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMuLaw } from '../../src/audio/g711.js';
import { resample } from '../../src/audio/resampler.js';
import { createEmotionObserverFactory } from '../../src/emotion/track-emotion-observer.js';
import type { TwilioCallInfo } from '../../src/gateway/twilio/twilio-media-stream.js';
import { silentLogger } from '../../src/log/logger.js';
import { createSession } from '../../src/pipeline/session.js';
import type { ServerEvent } from '../../src/protocol/messages.js';
import {
  startTwilioTestServer,
  TwilioTestClient,
  type TwilioTestServer,
} from '../gateway/twilio/twilio-test-client.js';
import {
  createRealEngines,
  readWav16k,
  testConfig,
  type RealEngines,
} from '../pipeline/session-test-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Twilio calls on a real session', () => {
  const sinkDir = mkdtempSync(join(tmpdir(), 'ut-twilio-sink-'));
  const config = testConfig({ 'session.transcriptSinkDir': sinkDir, 'llm.maxTokens': 24 });
  const events = new Map<string, ServerEvent[]>();
  let engines: RealEngines;
  let server: TwilioTestServer;
  let speech: Uint8Array;

  beforeAll(async () => {
    engines = await createRealEngines(config);
    server = await startTwilioTestServer({
      config,
      createSession,
      engines: () => engines,
      emotion: createEmotionObserverFactory(config, silentLogger),
      onEvent: (call: TwilioCallInfo, event) =>
        events.set(call.streamSid, [...(events.get(call.streamSid) ?? []), event]),
    });
    const audio = readWav16k(join(import.meta.dirname, '../fixtures/speech/hello_weather.16k.wav'));
    speech = encodeMuLaw(resample(audio, 16_000, 8_000));
  });
  afterAll(async () => {
    await server?.close();
    await engines?.close();
  });

  /** Sends mu-law bytes as 20 ms media messages; `realtime` paces them like a phone line. */
  async function play(
    client: TwilioTestClient,
    mulaw: Uint8Array,
    realtime = false,
  ): Promise<void> {
    for (let at = 0; at < mulaw.length; at += 160) {
      const chunk = new Uint8Array(160).fill(0xff); // mu-law silence
      chunk.set(mulaw.subarray(at, Math.min(mulaw.length, at + 160)));
      client.media(chunk);
      if (realtime) await sleep(20);
      else if ((at / 160) % 25 === 0) await sleep(1);
    }
  }
  const silence = (ms: number) => new Uint8Array(ms * 8).fill(0xff);

  it('transcribes a call: transcripts and emotion come out, aligned, and land in the sink', async () => {
    const client = await TwilioTestClient.connect(server.url, 'MZtranscribe');
    client.start({ mode: 'transcribe' });
    await play(client, speech);
    await play(client, silence(1500));
    client.stop();
    expect(await client.closed).toBe(1000);

    const got = events.get('MZtranscribe')!;
    const types = got.map((e) => e.type);
    expect(types[0]).toBe('session.started');
    expect(got[0]).toMatchObject({ mode: 'transcribe' });
    expect(types.at(-1)).toBe('session.ended');
    const final = got.find((e) => e.type === 'transcript.final');
    expect(final).toBeDefined();
    const emotion = got.find((e) => e.type === 'emotion.final');
    expect(emotion).toBeDefined();
    if (final?.type === 'transcript.final' && emotion?.type === 'emotion.final')
      expect(emotion.segmentId).toBe(final.segmentId);
    expect(client.of('media')).toHaveLength(0);

    const sessionId = got[0]!.sessionId;
    const lines = readFileSync(join(sinkDir, `${sessionId}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(
      expect.arrayContaining([
        'session.started',
        'transcript.final',
        'emotion.final',
        'session.ended',
      ]),
    );
  });

  it('answers in agent mode: mu-law media back with marks, echoed marks accepted', async () => {
    const client = await TwilioTestClient.connect(server.url, 'MZagent');
    client.start({ mode: 'agent' });
    await play(client, speech);
    // The phone line keeps streaming (silence) while the agent thinks and talks.
    const deadline = Date.now() + 30_000;
    while (client.of('mark').length === 0 && Date.now() < deadline)
      await play(client, silence(100), true);
    await play(client, silence(300), true);
    for (const m of client.of('mark')) client.mark(m.mark.name);
    await play(client, silence(200), true);
    client.stop();
    expect(await client.closed).toBe(1000);

    const media = client.of('media');
    expect(media.length).toBeGreaterThan(0);
    expect(Buffer.from(media[0]!.media.payload, 'base64')).toHaveLength(160); // 20 ms of 8 kHz mu-law
    expect(client.of('mark').length).toBeGreaterThan(0);
    const got = events.get('MZagent')!;
    expect(got[0]).toMatchObject({
      type: 'session.started',
      mode: 'agent',
      output: { codec: 'mulaw', sampleRateHz: 8000 },
    });
    expect(got.some((e) => e.type === 'response.started')).toBe(true);
    expect(got.some((e) => e.type === 'error' && !e.recoverable)).toBe(false);
  });
});
