import { env, pipeline, type TextToAudioPipeline } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../../src/models/fixtures/index.js';

type Speech = { audio: Float32Array; sampling_rate: number };

describe('mms-tts-tiny-random through the transformers.js text-to-speech pipeline', () => {
  let tts: TextToAudioPipeline;

  beforeAll(async () => {
    const folders = await ensureFixtures(undefined, ['mms-tts-tiny-random']);
    env.allowRemoteModels = false;
    tts = await pipeline('text-to-speech', folders['mms-tts-tiny-random']!, { dtype: 'fp32' });
  });

  it('returns audible 16 kHz audio, 256 samples per token with MMS blanks between characters', async () => {
    const out = (await tts('Hello there.')) as Speech;
    expect(out.sampling_rate).toBe(16_000);
    // 12 characters, blanks before, between and after: 25 tokens.
    expect(out.audio.length).toBe(25 * 256);
    const rms = Math.sqrt(out.audio.reduce((s, v) => s + v * v, 0) / out.audio.length);
    expect(rms).toBeGreaterThan(0.05);
    expect(out.audio.every((v) => Number.isFinite(v) && Math.abs(v) <= 0.5)).toBe(true);
  });

  it('makes longer audio for longer text and drops characters it has no token for', async () => {
    const short = (await tts('Hi')) as Speech;
    const long = (await tts('Hi, how are you today?')) as Speech;
    const withUnknown = (await tts('Hi ☃')) as Speech;
    expect(long.audio.length).toBeGreaterThan(short.audio.length);
    expect(withUnknown.audio.length).toBe(((await tts('Hi ')) as Speech).audio.length);
  });
});
