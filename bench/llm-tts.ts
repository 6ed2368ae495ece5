/**
 * LLM and TTS speed on this machine, short runs (about 10 s in all):
 * - llama.cpp on `../shared/models/stories260K.gguf` (skipped when absent) with 1 thread and with
 *   the library's default thread count: first-token latency (request to first text piece, ms) and
 *   decode speed (tokens/s after the first token). Each run is capped at 64 tokens or 2.5 s, since
 *   the default oversubscribes small machines (FINDINGS: ~2000 vs ~2 tokens/s on 2 cores).
 * - VITS TTS on the `mms-tts-tiny-random` fixture (random weights, real sizes of nothing: it
 *   measures the engine path, not a production voice): first-chunk latency per sentence and
 *   real-time factor (synthesis time / audio duration; below 1 is faster than real time).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LlamaCppEngine } from '../src/llm/engines/llama-cpp.js';
import type { ChatMessage } from '../src/llm/types.js';
import { ensureFixtures } from '../src/models/fixtures/index.js';
import { TransformersTtsEngine } from '../src/tts/engines/transformers-tts.js';

const STORY: ChatMessage[] = [{ role: 'user', content: 'Tell me a story about a cat.' }];
const LLM_MAX_TOKENS = 64;
const LLM_BUDGET_MS = 2500;
const SENTENCES = [
  'Hello, thanks for calling.',
  'Your order shipped yesterday and should arrive on Friday.',
  'Is there anything else I can help you with today?',
];

export async function benchLlmTts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const shared = resolve(process.env.UNDERTONE_SHARED_DIR ?? join(process.cwd(), '..', 'shared'));
  const gguf = join(shared, 'models', 'stories260K.gguf');
  if (existsSync(gguf)) {
    for (const [label, threads] of [
      ['threads1', 1],
      ['threadsDefault', undefined],
    ] as const) {
      Object.assign(out, await benchLlama(gguf, label, threads));
    }
  }
  Object.assign(out, await benchTts());
  return out;
}

async function benchLlama(modelPath: string, label: string, threads: number | undefined) {
  const engine = await LlamaCppEngine.create({
    modelPath,
    threads,
    maxConcurrent: 1,
    temperature: 0,
  });
  try {
    await drain(engine.generate(STORY, { maxTokens: 1 })); // warm-up
    // The default thread count is ~1000x slower on small machines: one capped run says enough.
    const runs = threads === undefined ? 1 : 3;
    let firstMs = 0;
    let tokens = 0;
    let decodeMs = 0;
    for (let i = 0; i < runs; i++) {
      const before = engine.stats().tokensGenerated;
      const startMs = performance.now();
      let firstAtMs: number | undefined;
      for await (const _ of engine.generate(STORY, {
        maxTokens: LLM_MAX_TOKENS,
        signal: AbortSignal.timeout(LLM_BUDGET_MS),
      })) {
        firstAtMs ??= performance.now();
      }
      const endMs = performance.now();
      firstMs += (firstAtMs ?? endMs) - startMs;
      tokens += Math.max(0, engine.stats().tokensGenerated - before - 1);
      decodeMs += endMs - (firstAtMs ?? endMs);
    }
    return {
      [`llm_${label}_firstTokenMs`]: round(firstMs / runs),
      [`llm_${label}_tokensPerS`]: round(decodeMs > 0 ? (tokens / decodeMs) * 1000 : 0),
    };
  } finally {
    await engine.close();
  }
}

async function benchTts(): Promise<Record<string, number>> {
  const folders = await ensureFixtures(undefined, ['mms-tts-tiny-random']);
  const engine = await TransformersTtsEngine.create({
    modelDir: folders['mms-tts-tiny-random']!,
    threads: 1,
  });
  try {
    await drain(engine.synthesize('Warm up.'));
    let firstChunkMs = 0;
    let totalMs = 0;
    let samples = 0;
    for (const sentence of SENTENCES) {
      const startMs = performance.now();
      let firstAtMs: number | undefined;
      for await (const chunk of engine.synthesize(sentence)) {
        firstAtMs ??= performance.now();
        samples += chunk.length;
      }
      firstChunkMs += (firstAtMs ?? performance.now()) - startMs;
      totalMs += performance.now() - startMs;
    }
    const audioMs = (samples / engine.sampleRateHz) * 1000;
    return {
      tts_vitsFixture_firstChunkMs: round(firstChunkMs / SENTENCES.length),
      tts_vitsFixture_realTimeFactor: round(totalMs / audioMs, 4),
    };
  } finally {
    await engine.close();
  }
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

const round = (v: number, digits = 2) => Number(v.toFixed(digits));
