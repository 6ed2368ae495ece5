/**
 * The model runtime the local transformers.js engines share (Whisper ASR, the causal LLM, VITS
 * TTS): one place for how an ONNX model is loaded from a local folder (the hub is never asked),
 * with which device, dtype and ONNX session threads, and for keeping one loaded copy of each model
 * per key in the process, however many engines ask for it.
 */
import { env } from '@huggingface/transformers';
import { UndertoneError } from '../errors/undertone-error.js';
import { ERROR_CODES } from '../protocol/error-codes.js';

export type ModelDevice = 'cpu' | 'cuda';
/** Weight files: fp32 (no suffix), fp16 (`_fp16`), q8 (`_quantized`), q4 (`_q4`). */
export type ModelDtype = 'fp32' | 'fp16' | 'q8' | 'q4';

/** Where a local model is and how it runs. */
export interface LocalModelOptions {
  /** Absolute path of the model folder. */
  modelDir: string;
  /** Default `cpu`. */
  device?: ModelDevice;
  /** Default `fp32`. */
  dtype?: ModelDtype;
  /** Intra-op threads per ONNX session (config `models.threads`). Default 1. */
  threads?: number;
}

/** What transformers.js's `from_pretrained` and `pipeline` take for a `LocalModelOptions`. */
export interface TransformersLoadOptions {
  device: ModelDevice;
  dtype: ModelDtype;
  session_options: { intraOpNumThreads: number; interOpNumThreads: number };
}

/**
 * Makes transformers.js read local folders only (nothing is fetched) and returns the load options:
 * the device and dtype (defaults `cpu`, `fp32`), `threads` intra-op threads (default 1) and one
 * inter-op thread (see FINDINGS.md).
 */
export function transformersLoadOptions(options: LocalModelOptions): TransformersLoadOptions {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  return {
    device: options.device ?? 'cpu',
    dtype: options.dtype ?? 'fp32',
    session_options: { intraOpNumThreads: options.threads ?? 1, interOpNumThreads: 1 },
  };
}

/** Cache key of a model by folder, device, dtype and thread count (defaults filled in). */
export function localModelKey(options: LocalModelOptions): string {
  return [
    options.modelDir,
    options.device ?? 'cpu',
    options.dtype ?? 'fp32',
    options.threads ?? 1,
  ].join('|');
}

/** The `UT_ERR_MODEL_MISSING` error of a model that cannot be loaded: internal, not recoverable. */
export function modelMissingError(message: string, cause?: unknown): UndertoneError {
  return new UndertoneError(ERROR_CODES.modelMissing, message, {
    category: 'internal',
    recoverable: false,
    cause,
  });
}

/** An engine's hold on a shared model; `release` once when the engine closes. */
export interface ModelLease<T> {
  readonly model: T;
  /** Drops this hold; the last one removes the model from the cache and disposes it. */
  release(): Promise<void>;
}

interface CacheEntry<T> {
  model: T;
  users: number;
}

/** Loaded models by key: one copy per process, disposed when the last engine using it closes. */
export class SharedModelCache<T> {
  private readonly entries = new Map<string, Promise<CacheEntry<T>>>();

  constructor(private readonly dispose: (model: T) => Promise<unknown>) {}

  /** Models held or loading now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The model under `key`, loaded by `load` on first use. A failed load is forgotten, so the next
   * call tries again; the error is thrown to every caller waiting on that load.
   */
  async acquire(key: string, load: () => Promise<T>): Promise<ModelLease<T>> {
    let pending = this.entries.get(key);
    if (!pending) {
      pending = load().then((model) => ({ model, users: 0 }));
      this.entries.set(key, pending);
      pending.catch(() => this.entries.delete(key));
    }
    const entry = await pending;
    // While this call awaited, the last other user may have released and disposed the model:
    // then it is no longer the cached entry, and a fresh one is loaded.
    if (this.entries.get(key) !== pending) return this.acquire(key, load);
    entry.users++;
    let released = false;
    return {
      model: entry.model,
      release: async () => {
        if (released) return;
        released = true;
        entry.users--;
        if (entry.users > 0) return;
        this.entries.delete(key);
        await this.dispose(entry.model);
      },
    };
  }
}
