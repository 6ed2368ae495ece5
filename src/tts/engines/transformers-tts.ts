/**
 * Text to speech through the transformers.js `text-to-speech` pipeline on onnxruntime-node, from a
 * local folder (nothing is fetched). Runs the VITS family (MMS-TTS, `Xenova/mms-tts-eng` layout):
 * one `onnx/model.onnx`, a character tokenizer, no phonemizer. See `src/tts/README.md` for why.
 *
 * VITS is not autoregressive: one inference makes a sentence's whole waveform. Streaming is
 * therefore sentence by sentence (a text of several sentences is split first), each waveform handed
 * on in `chunkMs` pieces. Aborting is checked before each inference and between pieces; an
 * inference already running finishes, but its audio is dropped.
 */
import { pipeline } from '@huggingface/transformers';
import { UndertoneError } from '../../errors/undertone-error.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import {
  localModelKey,
  modelMissingError,
  SharedModelCache,
  transformersLoadOptions,
  type LocalModelOptions,
  type ModelLease,
} from '../../models/transformers-runtime.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import { SentenceChunker } from '../sentence-chunker.js';
import type { SynthesizeOptions, TtsEngine } from '../types.js';

export interface TransformersTtsOptions extends LocalModelOptions {
  /** Length of the audio pieces yielded, in ms. Default 200. */
  chunkMs?: number;
  /** A sentence whose inference takes longer fails with `UT_ERR_TTS_TIMEOUT`, in ms. Default 20000. */
  timeoutMs?: number;
  logger?: Logger;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- transformers.js pipelines are loosely typed */
type TtsPipeline = any;

interface LoadedTts {
  pipe: TtsPipeline;
  sampleRateHz: number;
  padId: number;
}

const loaded = new SharedModelCache<LoadedTts>(({ pipe }) => pipe.dispose());

async function loadTts(options: TransformersTtsOptions): Promise<LoadedTts> {
  const loadOptions = transformersLoadOptions(options);
  const pipe: TtsPipeline = await pipeline('text-to-speech', options.modelDir, loadOptions);
  const config = pipe.model.config as { model_type?: string; sampling_rate?: number };
  if (config.model_type !== 'vits') {
    await pipe.dispose();
    throw new Error(`model type "${config.model_type}" is not supported; use a VITS/MMS model`);
  }
  const padId = Number(pipe.tokenizer.pad_token_id ?? 0);
  return { pipe, sampleRateHz: config.sampling_rate ?? 16_000, padId };
}

/** Splits a text into sentences with the same rules the pipeline's chunker uses. */
export function splitSentences(text: string): string[] {
  const chunker = new SentenceChunker({ firstClauseMinWords: Number.MAX_SAFE_INTEGER });
  return [...chunker.push(text), ...chunker.flush()];
}

export class TransformersTtsEngine implements TtsEngine {
  readonly name = 'transformers-tts';
  readonly sampleRateHz: number;
  private closed = false;
  /** Inferences run so far (for tests and benchmarks). */
  inferences = 0;

  private readonly tts: LoadedTts;

  private constructor(
    private readonly lease: ModelLease<LoadedTts>,
    private readonly options: TransformersTtsOptions,
    private readonly log: Logger,
  ) {
    this.tts = lease.model;
    this.sampleRateHz = this.tts.sampleRateHz;
  }

  static async create(options: TransformersTtsOptions): Promise<TransformersTtsEngine> {
    const log = (options.logger ?? silentLogger).child({
      stage: 'tts',
      engine: 'transformers-tts',
    });
    try {
      const lease = await loaded.acquire(localModelKey(options), () => loadTts(options));
      const { sampleRateHz } = lease.model;
      log.info({ modelDir: options.modelDir, sampleRateHz }, 'tts model ready');
      return new TransformersTtsEngine(lease, options, log);
    } catch (err) {
      throw modelMissingError(`cannot load the TTS model in ${options.modelDir}`, err);
    }
  }

  /** Yields mono float audio at `sampleRateHz`, sentence by sentence, in `chunkMs` pieces. */
  async *synthesize(text: string, options: SynthesizeOptions = {}): AsyncIterable<Float32Array> {
    if (this.closed) throw new UndertoneError(ERROR_CODES.ttsFailed, 'tts engine is closed');
    const { signal } = options;
    const chunkSamples = Math.max(
      1,
      Math.round(((this.options.chunkMs ?? 200) * this.sampleRateHz) / 1000),
    );

    for (const sentence of splitSentences(text)) {
      if (signal?.aborted) return;
      const audio = await this.infer(sentence);
      for (let at = 0; at < audio.length; at += chunkSamples) {
        if (signal?.aborted) return;
        yield audio.slice(at, at + chunkSamples);
      }
    }
  }

  /** True when the sentence has a letter or digit the model knows (not only punctuation). */
  private speakable(sentence: string): boolean {
    const { pipe, padId } = this.tts;
    const words = sentence.replace(/[^\p{L}\p{N}]/gu, '');
    if (!words) return false;
    const ids = pipe.tokenizer(words).input_ids.data as BigInt64Array;
    return ids.some((id) => Number(id) !== padId);
  }

  /** One sentence's waveform; empty when nothing in it is speakable by this model. */
  private async infer(sentence: string): Promise<Float32Array> {
    const { pipe } = this.tts;
    if (!this.speakable(sentence)) return new Float32Array(0);

    const timeoutMs = this.options.timeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UndertoneError(ERROR_CODES.ttsTimeout, `synthesis took over ${timeoutMs} ms`, {
              category: 'upstream',
            }),
          ),
        timeoutMs,
      );
    });
    const startedMs = performance.now();
    try {
      this.inferences++;
      const out = (await Promise.race([pipe(sentence), timeout])) as { audio: Float32Array };
      this.log.debug(
        { ms: Math.round(performance.now() - startedMs), samples: out.audio.length },
        'tts sentence done',
      );
      return sanitize(out.audio);
    } catch (err) {
      if (err instanceof UndertoneError) throw err;
      throw new UndertoneError(ERROR_CODES.ttsFailed, 'transformers.js synthesis failed', {
        category: 'upstream',
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Releases this engine; the model is disposed when its last engine closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lease.release();
  }
}

/** Replaces non-finite samples with silence and clips to [-1, 1]. */
function sanitize(audio: Float32Array): Float32Array {
  for (let i = 0; i < audio.length; i++) {
    const v = audio[i]!;
    audio[i] = Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
  }
  return audio;
}
