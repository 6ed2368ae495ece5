/**
 * GGUF language models through node-llama-cpp (llama.cpp bindings, prebuilt binaries, no network).
 *
 * One model is loaded per process and path (see `loadShared`); each concurrent generation takes a
 * context sequence from a small pool (`maxConcurrent`), so sessions share one context and its
 * batched evaluation. Threads are always set explicitly: the library default oversubscribes small
 * machines (2 cores: ~2000 tokens/s with 1 thread, ~2 with the default).
 *
 * Chat formatting uses the model's own chat template when the GGUF carries one; otherwise (story
 * models such as stories260K) a plain transcript prompt ("User: ...\nAssistant:").
 */
import {
  getLlama,
  LlamaChat,
  LlamaCompletion,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
} from 'node-llama-cpp';
import { UndertoneError } from '../../errors/undertone-error.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import type { ChatMessage, GenerateOptions, LlmEngine } from '../types.js';
import type { PushQueue } from '../push-queue.js';
import { transcriptPrompt, TRANSCRIPT_STOP_TRIGGERS } from '../transcript-prompt.js';
import { endFailedGeneration, streamGeneration, type GenerationRun } from './generation-stream.js';

export interface LlamaCppEngineOptions {
  /** Path of the `.gguf` file. */
  modelPath: string;
  /** CPU threads for evaluation (config `llm.threads`). Undefined keeps the library default. */
  threads?: number;
  /** `false` (CPU, default), `'cuda'` or `'auto'`. */
  gpu?: false | 'cuda' | 'auto';
  /** Context window in tokens, shared by all sequences. Default: the model's, capped at 4096. */
  contextSize?: number;
  /** Generations that run at once; more wait for a free sequence. Default 4. */
  maxConcurrent?: number;
  /** Default reply length in tokens (config `llm.maxTokens`). Default 200. */
  maxTokens?: number;
  /** Default sampling temperature (config `llm.temperature`); 0 is greedy. Default 0.7. */
  temperature?: number;
  /**
   * `auto` (default): the GGUF's chat template when it has one, else the plain transcript.
   * `transcript` forces the plain transcript; a `ChatWrapper` forces that chat format.
   */
  chatFormat?: 'auto' | 'transcript' | ChatWrapper;
  logger?: Logger;
}

/** Counters for tests and metrics. */
export interface LlamaCppStats {
  activeGenerations: number;
  idleSequences: number;
  waiting: number;
  tokensGenerated: number;
  /** Why the last generation ended: `eogToken`, `maxTokens`, `abort`, `customStopTrigger`... */
  lastStopReason: string | undefined;
}

interface SharedModel {
  llama: Llama;
  model: LlamaModel;
  users: number;
}

/** Loaded models by `gpu|threads|path`: one copy per process however many engines ask. */
const shared = new Map<string, Promise<SharedModel>>();

async function loadShared(key: string, options: LlamaCppEngineOptions): Promise<SharedModel> {
  let entry = shared.get(key);
  if (!entry) {
    entry = (async () => {
      const llama = await getLlama({
        gpu: options.gpu ?? false,
        build: 'never',
        ...(options.threads === undefined ? {} : { maxThreads: options.threads }),
        logLevel: LlamaLogLevel.error,
      });
      const model = await llama.loadModel({ modelPath: options.modelPath });
      return { llama, model, users: 0 };
    })();
    shared.set(key, entry);
    entry.catch(() => shared.delete(key));
  }
  const loaded = await entry;
  loaded.users++;
  return loaded;
}

function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === 'assistant'
      ? { type: 'model', response: [m.content] }
      : { type: m.role, text: m.content },
  );
  history.push({ type: 'model', response: [] });
  return history;
}

export class LlamaCppEngine implements LlmEngine {
  readonly name = 'llama-cpp';
  private readonly idle: LlamaContextSequence[] = [];
  private readonly waiters: Array<(seq: LlamaContextSequence) => void> = [];
  private readonly counters = {
    active: 0,
    tokens: 0,
    lastStopReason: undefined as string | undefined,
  };
  private closed = false;
  /** Runs in flight; `close` aborts them and waits, so no step touches a disposed context. */
  private readonly running = new Set<GenerationRun>();

  private constructor(
    private readonly key: string,
    private readonly loaded: SharedModel,
    private readonly context: LlamaContext,
    private readonly chatWrapper: ChatWrapper | undefined,
    private readonly options: LlamaCppEngineOptions,
    private readonly log: Logger,
  ) {}

  /** Loads (or reuses) the model and creates a context with `maxConcurrent` sequences. */
  static async create(options: LlamaCppEngineOptions): Promise<LlamaCppEngine> {
    const log = (options.logger ?? silentLogger).child({ stage: 'llm', engine: 'llama-cpp' });
    const key = `${options.gpu ?? false}|${options.threads ?? 'default'}|${options.modelPath}`;
    let loaded: SharedModel;
    try {
      loaded = await loadShared(key, options);
    } catch (err) {
      throw new UndertoneError(
        ERROR_CODES.modelMissing,
        `cannot load GGUF model ${options.modelPath}`,
        {
          category: 'internal',
          recoverable: false,
          cause: err,
        },
      );
    }

    const { model } = loaded;
    let context: LlamaContext;
    try {
      context = await model.createContext({
        contextSize: options.contextSize ?? Math.min(model.trainContextSize, 4096),
        sequences: options.maxConcurrent ?? 4,
        ...(options.threads === undefined ? {} : { threads: options.threads }),
      });
    } catch (err) {
      loaded.users--;
      throw new UndertoneError(ERROR_CODES.llmFailed, 'cannot create a llama.cpp context', {
        category: 'internal',
        recoverable: false,
        cause: err,
      });
    }
    const template = model.fileInfo.metadata.tokenizer?.chat_template;
    const format = options.chatFormat ?? 'auto';
    const chatWrapper =
      format === 'transcript'
        ? undefined
        : format === 'auto'
          ? template
            ? resolveChatWrapper(model)
            : undefined
          : format;
    log.info(
      {
        modelPath: options.modelPath,
        threads: options.threads,
        chatFormat: chatWrapper?.wrapperName ?? 'transcript',
      },
      'llm model ready',
    );
    return new LlamaCppEngine(key, loaded, context, chatWrapper, options, log);
  }

  /** True when prompts are formatted by the model's chat template (not the plain transcript). */
  get usesChatTemplate(): boolean {
    return this.chatWrapper !== undefined;
  }

  stats(): LlamaCppStats {
    return {
      activeGenerations: this.counters.active,
      idleSequences: this.idle.length + this.context.sequencesLeft,
      waiting: this.waiters.length,
      tokensGenerated: this.counters.tokens,
      lastStopReason: this.counters.lastStopReason,
    };
  }

  countTokens(text: string): number {
    return this.loaded.model.tokenize(text).length;
  }

  /**
   * Streams the reply. Aborting `options.signal` (or leaving the loop early) stops llama.cpp's
   * evaluation loop; the iterable then ends quietly, and it returns only after the engine stopped.
   */
  async *generate(messages: ChatMessage[], options: GenerateOptions = {}): AsyncIterable<string> {
    if (this.closed) throw new UndertoneError(ERROR_CODES.llmFailed, 'llm engine is closed');
    yield* streamGeneration(
      options.signal,
      (signal, queue) => this.run(messages, options, signal, queue),
      (entry) => {
        this.running.add(entry);
        void entry.done.finally(() => this.running.delete(entry));
      },
    );
  }

  private async run(
    messages: ChatMessage[],
    options: GenerateOptions,
    signal: AbortSignal,
    queue: PushQueue<string>,
  ): Promise<void> {
    let sequence: LlamaContextSequence | undefined;
    const startedMs = performance.now();
    try {
      sequence = await this.acquire(signal);
      if (!sequence) return queue.end();
      this.counters.active++;

      const common = {
        signal,
        stopOnAbortSignal: true,
        maxTokens: options.maxTokens ?? this.options.maxTokens ?? 200,
        temperature: options.temperature ?? this.options.temperature ?? 0.7,
        onTextChunk: (text: string) => {
          if (text) queue.push(text);
        },
        onToken: (tokens: readonly unknown[]) => {
          this.counters.tokens += tokens.length;
        },
      };
      const stopReason = this.chatWrapper
        ? await this.generateChat(sequence, messages, common)
        : await this.generateTranscript(sequence, messages, common);
      this.counters.lastStopReason = stopReason;
      this.log.debug(
        { stopReason, ms: Math.round(performance.now() - startedMs) },
        'llm reply done',
      );
      queue.end();
    } catch (err) {
      if (endFailedGeneration(queue, signal, err, this.log, 'llama.cpp generation failed')) {
        this.counters.lastStopReason = 'abort';
      }
    } finally {
      if (sequence) {
        this.counters.active--;
        this.release(sequence);
      }
    }
  }

  private async generateChat(
    sequence: LlamaContextSequence,
    messages: ChatMessage[],
    common: GenerationCommon,
  ): Promise<string> {
    const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: this.chatWrapper! });
    try {
      const result = await chat.generateResponse(toChatHistory(messages), common);
      return result.metadata.stopReason;
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  }

  private async generateTranscript(
    sequence: LlamaContextSequence,
    messages: ChatMessage[],
    common: GenerationCommon,
  ): Promise<string> {
    const completion = new LlamaCompletion({ contextSequence: sequence });
    try {
      const result = await completion.generateCompletionWithMeta(transcriptPrompt(messages), {
        ...common,
        customStopTriggers: [...TRANSCRIPT_STOP_TRIGGERS],
      });
      return result.metadata.stopReason;
    } finally {
      completion.dispose({ disposeSequence: false });
    }
  }

  /** A free sequence, a new one while the context has room, or the next one released. */
  private acquire(signal: AbortSignal): Promise<LlamaContextSequence | undefined> {
    const free = this.idle.pop();
    if (free) return Promise.resolve(free);
    if (this.context.sequencesLeft > 0) return Promise.resolve(this.context.getSequence());

    return new Promise((resolve) => {
      const waiter = (seq: LlamaContextSequence) => {
        signal.removeEventListener('abort', onAbort);
        resolve(seq);
      };
      const onAbort = () => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        resolve(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(sequence: LlamaContextSequence): void {
    if (this.closed || sequence.disposed) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter(sequence);
    else this.idle.push(sequence);
  }

  /** Disposes this engine's context; the model is unloaded when its last engine closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const inFlight = [...this.running];
    for (const { controller } of inFlight) controller.abort();
    await Promise.allSettled(inFlight.map(({ done }) => done));
    for (const seq of this.idle.splice(0)) seq.dispose();
    await this.context.dispose();
    this.loaded.users--;
    if (this.loaded.users === 0) {
      shared.delete(this.key);
      await this.loaded.model.dispose();
      await this.loaded.llama.dispose();
    }
  }
}

type GenerationCommon = {
  signal: AbortSignal;
  stopOnAbortSignal: boolean;
  maxTokens: number;
  temperature: number;
  onTextChunk: (text: string) => void;
  onToken: (tokens: readonly unknown[]) => void;
};
