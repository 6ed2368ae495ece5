/**
 * Whisper on this machine: transformers.js 4 on onnxruntime-node, weights from a local folder
 * (nothing is fetched). One loaded copy per folder, device and dtype in the process, shared by
 * every engine object that asks for it.
 *
 * A decode mirrors the transformers.js `automatic-speech-recognition` pipeline step for step
 * (the model's own feature extractor, greedy `generate`, the tokenizer's `_decode_asr`), so that
 * without a prompt its text equals the pipeline's. On top it:
 * - batches requests that share their prompt tokens into one `generate` ([B, 80, 3000]);
 * - feeds a prompt after `<|startofprev|>`, as OpenAI's `transcribe()` does;
 * - on multilingual checkpoints, detects the language when none is named, as Whisper does: one
 *   decoder step after `<|startoftranscript|>`, the most probable of the model's `lang_to_id`
 *   tokens, then a decode with that language forced (the encoder output is reused);
 * - reads Whisper's failure signs: the no-speech probability (softmax of the first step's logits
 *   at `<|startoftranscript|>`, token `<|nospeech|>` or `<|nocaptions|>`), the average log
 *   probability of the chosen tokens, and the gzip compression ratio of the text.
 */
import { isAbsolute } from 'node:path';
import { LogitsProcessorList, Tensor, cat, pipeline } from '@huggingface/transformers';
import { UndertoneError } from '../../errors/undertone-error.js';
import {
  modelMissingError,
  SharedModelCache,
  transformersLoadOptions,
  type LocalModelOptions,
  type ModelLease,
} from '../../models/transformers-runtime.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import { compressionRatio } from '../transcript-filter.js';
import { LogprobObserver, noSpeechProbs, tokenId } from './whisper-scores.js';
import type { AsrBatchRequest, AsrEngine, AsrOptions, AsrResult } from '../types.js';

export interface WhisperLocalOptions extends LocalModelOptions {
  /** Absolute path of a folder laid out as transformers.js loads Whisper (see FINDINGS.md). */
  modelDir: string;
  /**
   * Language code for multilingual checkpoints when a request names none; undefined or `auto`
   * detects it per request. English-only checkpoints always decode (and report) `en`.
   */
  language?: string;
  /** Ask the model for segment timestamps (decodes one by one, without prompts). Default false. */
  timestamps?: boolean;
  /**
   * Run the encoder once over a whole batch. Default: on for cuda, off for cpu, where one
   * thread took longer for a batch of 4 than for 4 runs (bench/asr.ts); requests of a batch
   * are then decoded one after another.
   */
  batchEncoder?: boolean;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- transformers.js internals are untyped */
type AsrPipeline = any;

interface LoadedWhisper {
  pipe: AsrPipeline;
  /** Serialises decodes: the capture hooks below hold per-run state. */
  lock: Promise<unknown>;
  capture: { sotIndex: number; noSpeech: number[] | null } | null;
}

const loaded = new SharedModelCache<LoadedWhisper>(async ({ pipe }) => pipe.dispose?.());

/** How many Whisper models this process holds (one per folder, device and dtype). */
export function whisperModelsLoaded(): number {
  return loaded.size;
}

async function load(options: WhisperLocalOptions): Promise<LoadedWhisper> {
  const loadOptions = transformersLoadOptions(options);
  const pipe = await pipeline('automatic-speech-recognition', options.modelDir, loadOptions);
  const entry: LoadedWhisper = { pipe, lock: Promise.resolve(), capture: null };

  // The first decoder forward of a run sees the whole prompt: read the no-speech probability
  // at the <|startoftranscript|> position from its raw logits.
  const model = pipe.model;
  const forward = model.forward.bind(model);
  const noSpeechId =
    tokenId(pipe.tokenizer, '<|nospeech|>') ?? tokenId(pipe.tokenizer, '<|nocaptions|>');
  model.forward = async (inputs: unknown) => {
    const out = await forward(inputs);
    const capture = entry.capture;
    if (capture && capture.noSpeech === null && out.logits && noSpeechId !== undefined) {
      capture.noSpeech = noSpeechProbs(out.logits, capture.sotIndex, noSpeechId);
    }
    return out;
  };
  return entry;
}

/** A validated request: its language (named or detected) and, after detection, its encoding. */
interface Prepared {
  language: string;
  features?: Tensor;
  /** Encoder output [1, 1500, d] for this request alone. */
  hidden?: Tensor;
}

const MAX_SAMPLES = 30 * 16_000;
const MAX_PROMPT_TOKENS = 223;

/** Loads (or reuses) the model and returns an engine over it. */
export async function createWhisperLocalAsr(options: WhisperLocalOptions): Promise<AsrEngine> {
  if (!isAbsolute(options.modelDir)) {
    throw modelMissingError(`whisper model folder must be absolute: ${options.modelDir}`);
  }
  // Threads are not part of the key: one copy per folder, device and dtype.
  const key = `${options.modelDir}|${options.device ?? 'cpu'}|${options.dtype ?? 'fp32'}`;
  let lease: ModelLease<LoadedWhisper>;
  try {
    lease = await loaded.acquire(key, () => load(options));
  } catch (err) {
    throw modelMissingError(`cannot load whisper from ${options.modelDir}`, err);
  }
  return new WhisperLocalEngine(lease, options);
}

class WhisperLocalEngine implements AsrEngine {
  readonly name = 'whisper-local';
  private closed = false;
  private readonly multilingual: boolean;
  private readonly genConfig: any;
  private readonly entry: LoadedWhisper;

  constructor(
    private readonly lease: ModelLease<LoadedWhisper>,
    private readonly options: WhisperLocalOptions,
  ) {
    this.entry = lease.model;
    this.genConfig = this.entry.pipe.model.generation_config ?? {};
    this.multilingual = Boolean(this.genConfig.is_multilingual);
  }

  async transcribe(audio: Float32Array, options: AsrOptions = {}): Promise<AsrResult> {
    const [result] = await this.transcribeBatch([{ audio, options }]);
    if (result instanceof Error) throw result;
    return result!;
  }

  async transcribeBatch(requests: AsrBatchRequest[]): Promise<(AsrResult | Error)[]> {
    if (this.closed)
      throw new UndertoneError(ERROR_CODES.asrFailed, 'whisper engine closed', {
        category: 'upstream',
      });
    const run = this.entry.lock.then(() => this.decodeAll(requests));
    this.entry.lock = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lease.release();
  }

  /** Groups requests by their decoder prompt and decodes each group in one batch. */
  private async decodeAll(requests: AsrBatchRequest[]): Promise<(AsrResult | Error)[]> {
    const results: (AsrResult | Error)[] = new Array(requests.length);
    const prepared: Prepared[] = new Array(requests.length);
    const detect: number[] = [];
    requests.forEach((request, i) => {
      const error = checkAudio(request);
      if (error) results[i] = error;
      else if (!this.multilingual) prepared[i] = { language: 'en' };
      else {
        const language = this.requestedLanguage(request.options);
        if (language === undefined) detect.push(i);
        else if (this.genConfig.lang_to_id?.[`<|${language}|>`] === undefined)
          results[i] = new UndertoneError(
            ERROR_CODES.badMessage,
            `language not in this model: ${language}`,
            { category: 'bad-input' },
          );
        else prepared[i] = { language };
      }
    });
    if (detect.length > 0) {
      try {
        const detected = await this.detectLanguages(detect.map((i) => requests[i]!.audio));
        detect.forEach((at, k) => (prepared[at] = detected[k]!));
      } catch (err) {
        const error = new UndertoneError(
          ERROR_CODES.asrFailed,
          'whisper language detection failed',
          {
            category: 'upstream',
            cause: err,
          },
        );
        detect.forEach((at) => (results[at] = error));
      }
    }

    const groups = new Map<string, number[]>();
    requests.forEach((request, i) => {
      if (!prepared[i]) return;
      const tokens = this.options.timestamps
        ? `ts:${i}`
        : this.initTokens(request.options, prepared[i].language).join(',');
      groups.set(tokens, [...(groups.get(tokens) ?? []), i]);
    });
    for (const indices of groups.values()) {
      const group = indices.map((i) => requests[i]!);
      const preps = indices.map((i) => prepared[i]!);
      try {
        const decoded = this.options.timestamps
          ? [await this.decodeWithTimestamps(group[0]!, preps[0]!.language)]
          : await this.decodeGroup(group, preps);
        indices.forEach((at, k) => (results[at] = decoded[k]!));
      } catch (err) {
        const error = new UndertoneError(ERROR_CODES.asrFailed, 'whisper decode failed', {
          category: 'upstream',
          cause: err,
        });
        indices.forEach((at) => (results[at] = error));
      }
    }
    return results;
  }

  /** The request's language code, else the engine's; undefined where it is to be detected. */
  private requestedLanguage(options: AsrOptions = {}): string | undefined {
    const language = (options.language ?? this.options.language)?.trim().toLowerCase();
    return !language || language === 'auto' ? undefined : language.replace(/^<\|(.+)\|>$/, '$1');
  }

  /**
   * Whisper's language detection: encodes each clip, runs the decoder one step on
   * `<|startoftranscript|>` and takes the most probable token among `lang_to_id`'s. Returns the
   * language with the features and encoder output, which the decode then reuses.
   */
  private async detectLanguages(audios: Float32Array[]): Promise<Prepared[]> {
    const { pipe } = this.entry;
    const languages = Object.entries(this.genConfig.lang_to_id ?? {}) as [string, number][];
    if (languages.length === 0) throw new Error('multilingual model without lang_to_id');
    const features: Tensor[] = [];
    for (const audio of audios) features.push((await pipe.processor(finite(audio))).input_features);
    const batchEncoder = this.options.batchEncoder ?? this.options.device === 'cuda';
    const batched = audios.length > 1 && batchEncoder ? await this.encodeBatch(features) : null;
    const sot = new Tensor(
      'int64',
      BigInt64Array.of(BigInt(this.genConfig.decoder_start_token_id)),
      [1, 1],
    );
    const out: Prepared[] = [];
    for (let b = 0; b < audios.length; b++) {
      const hidden = batched
        ? (batched.slice([b, b + 1], null, null) as Tensor)
        : await this.encodeBatch([features[b]!]);
      const { logits } = (await pipe.model.forward({
        encoder_outputs: hidden,
        decoder_input_ids: sot,
      })) as { logits: Tensor };
      const data = logits.data as Float32Array;
      const row = data.subarray(data.length - logits.dims.at(-1)!);
      let best = languages[0]!;
      for (const entry of languages) if (row[entry[1]]! > row[best[1]]!) best = entry;
      out.push({ language: best[0].slice(2, -2), features: features[b], hidden });
    }
    return out;
  }

  /** `[<|startofprev|> prompt...] <|startoftranscript|> [<|lang|> <|transcribe|>] <|notimestamps|>`. */
  private initTokens(options: AsrOptions | undefined, language: string): number[] {
    const g = this.genConfig;
    const tokens: number[] = [];
    const prompt = options?.prompt?.trim();
    const prevId = g.prev_sot_token_id ?? tokenId(this.entry.pipe.tokenizer, '<|startofprev|>');
    if (prompt && prevId !== undefined) {
      const ids: number[] = this.entry.pipe.tokenizer.encode(` ${prompt}`, {
        add_special_tokens: false,
      });
      tokens.push(prevId, ...ids.slice(-MAX_PROMPT_TOKENS));
    }
    tokens.push(g.decoder_start_token_id);
    if (this.multilingual) tokens.push(g.lang_to_id[`<|${language}|>`], g.task_to_id.transcribe);
    if (g.no_timestamps_token_id !== undefined && g.no_timestamps_token_id !== null)
      tokens.push(g.no_timestamps_token_id);
    return tokens;
  }

  private async decodeGroup(group: AsrBatchRequest[], preps: Prepared[]): Promise<AsrResult[]> {
    const { pipe } = this.entry;
    const language = preps[0]!.language;
    const init = this.initTokens(group[0]!.options, language);
    const sotIndex = init.indexOf(this.genConfig.decoder_start_token_id);
    const features: Tensor[] = [];
    for (let b = 0; b < group.length; b++)
      features.push(
        preps[b]!.features ?? (await pipe.processor(finite(group[b]!.audio))).input_features,
      );
    const eosId = Array.isArray(this.genConfig.eos_token_id)
      ? this.genConfig.eos_token_id[0]
      : this.genConfig.eos_token_id;
    const observers: LogprobObserver[] = [];
    // Each request gets its own greedy decode (a batched decode runs every row until the
    // longest ends: more work, not less); the encoder runs batched where `batchEncoder` says.
    const batchEncoder = this.options.batchEncoder ?? this.options.device === 'cuda';
    const hidden: (Tensor | undefined)[] = preps.map((p) => p.hidden);
    const toEncode = hidden.flatMap((h, b) => (h ? [] : [b]));
    if (toEncode.length > 1 && batchEncoder) {
      const encoded = await this.encodeBatch(toEncode.map((b) => features[b]!));
      toEncode.forEach((b, k) => (hidden[b] = encoded.slice([k, k + 1], null, null) as Tensor));
    }
    const rows: bigint[][] = [];
    const noSpeech: (number | undefined)[] = [];
    for (let b = 0; b < group.length; b++) {
      const observer = new LogprobObserver(eosId);
      const processors = new LogitsProcessorList();
      processors.push(observer);
      observers.push(observer);
      this.entry.capture = { sotIndex, noSpeech: null };
      try {
        const sequences: Tensor = await pipe.model.generate({
          inputs: features[b],
          ...(hidden[b] ? { encoder_outputs: hidden[b] } : {}),
          decoder_input_ids: [init],
          logits_processor: processors,
        });
        rows.push((sequences.tolist() as bigint[][])[0]!);
        noSpeech.push(this.entry.capture.noSpeech?.[0]);
      } finally {
        this.entry.capture = null;
      }
    }

    return group.map((request, b) => {
      const row = rows[b]!.map(Number);
      const eosAt = row.indexOf(eosId, init.length);
      const tokens = row.slice(sotIndex, eosAt < 0 ? row.length : eosAt + 1);
      const text = this.decodeText(tokens, request.audio.length);
      const count = observers[b]!.counts[0] ?? 0;
      return this.result(text, request, language, {
        noSpeechProb: noSpeech[b],
        avgLogprob: count > 0 ? observers[b]!.sums[0]! / count : undefined,
      });
    });
  }

  /** Runs the encoder once over [B, 80, 3000] features. */
  private async encodeBatch(features: Tensor[]): Promise<Tensor> {
    const session = this.entry.pipe.model.sessions.model;
    const input = cat(features, 0) as any;
    const output = await session.run({ input_features: input.ort_tensor });
    return new Tensor(output.last_hidden_state);
  }

  /** The pipeline's own path with `return_timestamps: true`, for segment times. */
  private async decodeWithTimestamps(
    request: AsrBatchRequest,
    language: string,
  ): Promise<AsrResult> {
    const { pipe } = this.entry;
    this.entry.capture = { sotIndex: 0, noSpeech: null };
    try {
      const output = await pipe(request.audio, {
        return_timestamps: true,
        ...(this.multilingual ? { language, task: 'transcribe' } : {}),
      });
      const durationMs = request.audio.length / 16;
      const segments = (
        (output.chunks ?? []) as { text: string; timestamp: [number, number | null] }[]
      )
        .map((c) => ({
          text: c.text.trim(),
          startMs: clamp(Math.round(c.timestamp[0] * 1000), durationMs),
          endMs: clamp(
            Math.round((c.timestamp[1] ?? request.audio.length / 16_000) * 1000),
            durationMs,
          ),
        }))
        .filter((s) => s.text.length > 0);
      return {
        ...this.result(output.text as string, request, language, {
          noSpeechProb: this.entry.capture.noSpeech?.[0],
        }),
        ...(segments.length ? { segments } : {}),
      };
    } finally {
      this.entry.capture = null;
    }
  }

  private decodeText(tokens: number[], samples: number): string {
    const { pipe } = this.entry;
    const fe = pipe.processor.feature_extractor.config;
    const timePrecision = fe.chunk_length / pipe.model.config.max_source_positions;
    const [text] = pipe.tokenizer._decode_asr(
      [{ tokens: tokens.map(BigInt), stride: [samples / fe.sampling_rate, 0, 0] }],
      {
        time_precision: timePrecision,
        return_timestamps: false,
        force_full_sequences: false,
      },
    );
    return text as string;
  }

  private result(
    text: string,
    request: AsrBatchRequest,
    language: string,
    signs: Pick<AsrResult, 'noSpeechProb' | 'avgLogprob'>,
  ): AsrResult {
    const trimmed = text.trim();
    const durationMs = request.audio.length / 16;
    return {
      text: trimmed,
      language,
      segments: trimmed ? [{ text: trimmed, startMs: 0, endMs: durationMs }] : [],
      noSpeechProb: signs.noSpeechProb,
      avgLogprob: signs.avgLogprob,
      compressionRatio: compressionRatio(trimmed),
    };
  }
}

/** The samples with NaN and infinities replaced by 0 and peaks clipped to [-1, 1] (a copy only when needed). */
function finite(audio: Float32Array): Float32Array {
  if (audio.every((s) => Number.isFinite(s) && s >= -1 && s <= 1)) return audio;
  return audio.map((s) => (Number.isFinite(s) ? Math.max(-1, Math.min(1, s)) : 0));
}

const clamp = (ms: number, durationMs: number) => Math.max(0, Math.min(durationMs, ms));

function checkAudio(request: AsrBatchRequest): Error | undefined {
  if (request.options?.signal?.aborted) return request.options.signal.reason as Error;
  if (request.audio.length === 0 || request.audio.length > MAX_SAMPLES) {
    return new UndertoneError(
      ERROR_CODES.badAudioFormat,
      `whisper takes 1 sample to 30 s, got ${request.audio.length} samples`,
      {
        category: 'bad-input',
      },
    );
  }
  return undefined;
}
