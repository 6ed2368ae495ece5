import { env, pipeline, type AutomaticSpeechRecognitionPipeline } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../../src/models/fixtures/index.js';

const SAMPLE_RATE_HZ = 16_000;
const tone = (hz: number, seconds: number) =>
  Float32Array.from(
    { length: SAMPLE_RATE_HZ * seconds },
    (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE_HZ),
  );
function noise(seconds: number, seed: number): Float32Array {
  let x = seed;
  return Float32Array.from({ length: SAMPLE_RATE_HZ * seconds }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x / 2 ** 32 - 0.5) * 0.5;
  });
}
type AsrOutput = { text: string; chunks?: { timestamp: [number, number | null]; text: string }[] };

describe('whisper-tiny-random through the transformers.js ASR pipeline', () => {
  let asr: AutomaticSpeechRecognitionPipeline;

  beforeAll(async () => {
    const folders = await ensureFixtures(undefined, ['whisper-tiny-random']);
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    asr = await pipeline('automatic-speech-recognition', folders['whisper-tiny-random']!, {
      dtype: 'fp32',
    });
  });

  it('transcribes to printable words that depend on the audio and ends before max_length', async () => {
    const texts: string[] = [];
    for (const audio of [new Float32Array(SAMPLE_RATE_HZ), tone(440, 2), noise(2, 1)]) {
      const { text } = (await asr(audio)) as AsrOutput;
      expect(text).toMatch(/^[\x20-\x7e]+$/);
      expect(text.trim().split(/\s+/).length).toBeLessThan(100);
      texts.push(text);
    }
    expect(new Set(texts).size).toBeGreaterThan(1);
  });

  it('gives the same text for a batch of two as for each alone', async () => {
    const a = tone(440, 2);
    const b = noise(2, 1);
    const batch = (await asr([a, b])) as AsrOutput[];
    const single = [(await asr(a)) as AsrOutput, (await asr(b)) as AsrOutput];
    expect(batch.map((r) => r.text)).toEqual(single.map((r) => r.text));
  });

  it('returns timestamped chunks when asked', async () => {
    const out = (await asr(noise(2, 3), { return_timestamps: true })) as AsrOutput;
    expect(out.chunks?.length).toBeGreaterThan(0);
    expect(typeof out.chunks![0]!.timestamp[0]).toBe('number');
  });
});
