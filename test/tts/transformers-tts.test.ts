import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitSentences, TransformersTtsEngine } from '../../src/tts/engines/transformers-tts.js';
import { ensureFixtures } from '../../src/models/fixtures/index.js';

async function collect(stream: AsyncIterable<Float32Array>): Promise<Float32Array[]> {
  const chunks: Float32Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const rms = (chunks: Float32Array[]): number => {
  let sum = 0;
  let n = 0;
  for (const c of chunks) for (const v of c) ((sum += v * v), n++);
  return n ? Math.sqrt(sum / n) : 0;
};
const samples = (chunks: Float32Array[]) => chunks.reduce((n, c) => n + c.length, 0);

describe('TransformersTtsEngine on the mms-tts-tiny-random fixture', () => {
  let engine: TransformersTtsEngine;
  let folders: Record<string, string>;

  beforeAll(async () => {
    folders = await ensureFixtures(undefined, ['mms-tts-tiny-random', 'llama-tiny-random']);
    engine = await TransformersTtsEngine.create({
      modelDir: folders['mms-tts-tiny-random']!,
      chunkMs: 20,
    });
  });
  afterAll(async () => engine?.close());

  it('reads the sample rate from the model', () => {
    expect(engine.sampleRateHz).toBe(16_000);
  });

  it('synthesizes a sentence into non-silent, finite audio in 20 ms pieces', async () => {
    const chunks = await collect(engine.synthesize('Hello there, how are you today?'));
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(320);
    expect(chunks.every((c) => c.every((v) => Number.isFinite(v) && Math.abs(v) <= 1))).toBe(true);
    expect(rms(chunks)).toBeGreaterThan(0.01);
  });

  it('runs one inference per sentence', async () => {
    const before = engine.inferences;
    const one = samples(await collect(engine.synthesize('Good morning.')));
    const two = samples(await collect(engine.synthesize('Good morning. Good morning.')));
    expect(engine.inferences - before).toBe(3);
    expect(two).toBe(2 * one);
  });

  it('stops between pieces when the signal aborts and skips the sentences left', async () => {
    const controller = new AbortController();
    const before = engine.inferences;
    const got: Float32Array[] = [];
    for await (const c of engine.synthesize('First sentence here. Second one. Third one.', {
      signal: controller.signal,
    })) {
      got.push(c);
      controller.abort();
    }
    expect(got).toHaveLength(1);
    expect(engine.inferences - before).toBe(1);
  });

  it('does not start inference for an already aborted signal', async () => {
    const before = engine.inferences;
    expect(await collect(engine.synthesize('Hello.', { signal: AbortSignal.abort() }))).toEqual([]);
    expect(engine.inferences).toBe(before);
  });

  it('yields nothing for text the model cannot speak', async () => {
    const before = engine.inferences;
    expect(await collect(engine.synthesize('你好 ... ---'))).toEqual([]);
    expect(await collect(engine.synthesize('   '))).toEqual([]);
    expect(engine.inferences).toBe(before);
  });

  it('refuses a model that is not VITS with a coded error', async () => {
    await expect(
      TransformersTtsEngine.create({ modelDir: folders['llama-tiny-random']! }),
    ).rejects.toMatchObject({
      code: 'UT_ERR_MODEL_MISSING',
    });
  });

  it('reports a missing folder with a coded error', async () => {
    await expect(
      TransformersTtsEngine.create({ modelDir: '/nonexistent/tts' }),
    ).rejects.toMatchObject({
      code: 'UT_ERR_MODEL_MISSING',
    });
  });
});

describe('splitSentences', () => {
  it('splits whole sentences only, never at commas', () => {
    expect(splitSentences('Well, I think that we can, of course. Then go.')).toEqual([
      'Well, I think that we can, of course.',
      'Then go.',
    ]);
  });
});
