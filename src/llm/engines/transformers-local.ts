/**
 * Causal language models through transformers.js on onnxruntime-node, from a local folder
 * (nothing is fetched): `config.json`, `tokenizer.json`, `tokenizer_config.json` (with
 * `chat_template` for chat input) and `onnx/model.onnx` (see FINDINGS.md).
 *
 * Tokens stream one by one through a streamer's per-step callback (transformers.js's TextStreamer
 * would hold text back until a space). Aborting stops `generate()` through a stopping criterion
 * that reads the signal after every step; a token produced in the step that saw the abort is
 * dropped, so nothing is yielded after the abort.
 */
import {
  AutoModelForCausalLM,
  AutoTokenizer,
  BaseStreamer,
  StoppingCriteria,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
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
import type { PushQueue } from '../push-queue.js';
import { transcriptPrompt } from '../transcript-prompt.js';
import type { ChatMessage, GenerateOptions, LlmEngine } from '../types.js';
import { endFailedGeneration, streamGeneration } from './generation-stream.js';

export interface TransformersLocalOptions extends LocalModelOptions {
  maxTokens?: number;
  /** 0 is greedy. Default 0.7. */
  temperature?: number;
  logger?: Logger;
}

interface LoadedModel {
  tokenizer: PreTrainedTokenizer;
  model: PreTrainedModel;
}

/** One loaded copy per folder, device, dtype and thread count in the process. */
const loaded = new SharedModelCache<LoadedModel>(({ model }) => model.dispose());

async function loadModel(options: TransformersLocalOptions): Promise<LoadedModel> {
  const loadOptions = transformersLoadOptions(options);
  const tokenizer = await AutoTokenizer.from_pretrained(options.modelDir);
  const model = await AutoModelForCausalLM.from_pretrained(options.modelDir, loadOptions);
  return { tokenizer, model };
}

/** Stops every row once the signal aborts. */
class AbortCriteria extends StoppingCriteria {
  constructor(private readonly signal: AbortSignal) {
    super();
  }

  override _call(inputIds: number[][]): boolean[] {
    return new Array<boolean>(inputIds.length).fill(this.signal.aborted);
  }
}

/**
 * Receives each step's token, decodes everything generated so far and passes on the new text.
 * Decoding the whole reply (not token by token) keeps multi-token characters and word spacing
 * right; text ending in U+FFFD waits for the rest of its bytes.
 */
class TokenStreamer extends BaseStreamer {
  private promptSeen = false;
  private readonly ids: bigint[] = [];
  private sent = 0;
  tokens = 0;

  constructor(
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly signal: AbortSignal,
    private readonly onText: (text: string) => void,
  ) {
    super();
  }

  override put(value: bigint[][]): void {
    if (!this.promptSeen) {
      this.promptSeen = true;
      return;
    }
    if (this.signal.aborted) return;
    this.ids.push(value[0]![0]!);
    this.tokens++;

    const text = this.tokenizer.decode(this.ids, { skip_special_tokens: true });
    if (text.endsWith('\uFFFD') || text.length <= this.sent) return;
    this.onText(text.slice(this.sent));
    this.sent = text.length;
  }

  override end(): void {}
}

export class TransformersLocalEngine implements LlmEngine {
  readonly name = 'transformers-local';
  private closed = false;
  private active = 0;
  tokensGenerated = 0;

  private readonly loadedModel: LoadedModel;

  private constructor(
    private readonly lease: ModelLease<LoadedModel>,
    private readonly options: TransformersLocalOptions,
    private readonly log: Logger,
  ) {
    this.loadedModel = lease.model;
  }

  static async create(options: TransformersLocalOptions): Promise<TransformersLocalEngine> {
    const log = (options.logger ?? silentLogger).child({
      stage: 'llm',
      engine: 'transformers-local',
    });
    try {
      const lease = await loaded.acquire(localModelKey(options), () => loadModel(options));
      log.info(
        { modelDir: options.modelDir, chatTemplate: Boolean(lease.model.tokenizer.chat_template) },
        'llm model ready',
      );
      return new TransformersLocalEngine(lease, options, log);
    } catch (err) {
      throw modelMissingError(`cannot load the model in ${options.modelDir}`, err);
    }
  }

  /** True when the tokenizer has a chat template (else the plain transcript prompt is used). */
  get usesChatTemplate(): boolean {
    return Boolean(this.loadedModel.tokenizer.chat_template);
  }

  /** Generations running now. */
  get activeGenerations(): number {
    return this.active;
  }

  countTokens(text: string): number {
    return this.loadedModel.tokenizer.encode(text, { add_special_tokens: false }).length;
  }

  /** Streams the reply; ends quietly on abort, after `generate()` has returned. */
  async *generate(messages: ChatMessage[], options: GenerateOptions = {}): AsyncIterable<string> {
    if (this.closed) throw new UndertoneError(ERROR_CODES.llmFailed, 'llm engine is closed');
    yield* streamGeneration(options.signal, (signal, queue) =>
      this.run(messages, options, signal, queue),
    );
  }

  private async run(
    messages: ChatMessage[],
    options: GenerateOptions,
    signal: AbortSignal,
    queue: PushQueue<string>,
  ): Promise<void> {
    if (signal.aborted) return queue.end();
    const { tokenizer, model } = this.loadedModel;
    const streamer = new TokenStreamer(tokenizer, signal, (text) => queue.push(text));
    const temperature = options.temperature ?? this.options.temperature ?? 0.7;
    this.active++;
    try {
      const inputs = this.encode(messages);
      await model.generate({
        ...inputs,
        max_new_tokens: options.maxTokens ?? this.options.maxTokens ?? 200,
        do_sample: temperature > 0,
        ...(temperature > 0 ? { temperature } : {}),
        streamer,
        stopping_criteria: [new AbortCriteria(signal)],
      } as unknown as Parameters<PreTrainedModel['generate']>[0]);
      queue.end();
    } catch (err) {
      endFailedGeneration(queue, signal, err, this.log, 'transformers.js generation failed');
    } finally {
      this.active--;
      this.tokensGenerated += streamer.tokens;
    }
  }

  private encode(messages: ChatMessage[]): Record<string, unknown> {
    const { tokenizer } = this.loadedModel;
    if (this.usesChatTemplate) {
      return tokenizer.apply_chat_template(messages, {
        add_generation_prompt: true,
        return_dict: true,
      }) as unknown as Record<string, unknown>;
    }
    return tokenizer(transcriptPrompt(messages)) as unknown as Record<string, unknown>;
  }

  /** Releases this engine; the model is disposed when its last engine closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lease.release();
  }
}
