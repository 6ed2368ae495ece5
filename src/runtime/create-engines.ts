/**
 * Builds the shared engines of a process from the configuration: VAD, ASR and, unless the
 * process runs transcribe mode only, LLM and TTS. Every model path is resolved before anything
 * loads, so a missing model stops boot at once with `UT_ERR_MODEL_MISSING` and the command that
 * gets it (`undertone models pull ...` or `undertone serve --models fixtures`).
 */
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import { UndertoneError } from '../errors/undertone-error.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import type { Engines } from '../pipeline/types.js';
import type { AsrEngine } from '../asr/types.js';
import type { LlmEngine } from '../llm/types.js';
import type { TtsEngine } from '../tts/types.js';
import type { VadEngine } from '../vad/types.js';
import { resolveModelInfo, type ModelKind, type ResolvedModel } from '../models/resolve-model.js';
import { createSileroVadEngine } from '../vad/engines/silero-engine.js';
import { createWhisperLocalAsr } from '../asr/engines/whisper-local.js';
import { createWhisperWorkerAsr } from '../asr/engines/whisper-worker.js';
import { createOpenAiRemoteAsr } from '../asr/engines/openai-remote.js';
import { LlamaCppEngine } from '../llm/engines/llama-cpp.js';
import { OpenAiChatEngine } from '../llm/engines/openai-chat.js';
import { TransformersLocalEngine } from '../llm/engines/transformers-local.js';
import { TransformersTtsEngine } from '../tts/engines/transformers-tts.js';
import { OpenAiSpeechEngine } from '../tts/engines/openai-speech.js';
import type { LoadProgress } from './readiness.js';

type OnnxDtype = 'fp32' | 'fp16' | 'q8' | 'q4';
const ONNX_DTYPES: readonly string[] = ['fp32', 'fp16', 'q8', 'q4'];

/** True when the configuration needs LLM and TTS (agent sessions are possible). */
export function needsAgentEngines(config: UndertoneConfig): boolean {
  return config.session.mode === 'agent';
}

/** The local model of each stage; undefined for a remote engine or a stage not loaded. */
export interface EngineModels {
  asr?: ResolvedModel;
  llm?: ResolvedModel;
  tts?: ResolvedModel;
}

/**
 * Finds every model the configuration needs, without loading any: fast, so a missing model stops
 * boot before the server binds or minutes of loading start (fixtures are generated here).
 * @throws UndertoneError `UT_ERR_MODEL_MISSING` with the command that gets the model.
 */
export async function resolveEngineModels(config: UndertoneConfig): Promise<EngineModels> {
  const agent = needsAgentEngines(config);
  return {
    asr: config.asr.engine === 'local' ? await resolveModelInfo('asr', config) : undefined,
    llm:
      agent && config.llm.engine !== 'openai' ? await resolveModelInfo('llm', config) : undefined,
    tts: agent ? await resolveTts(config) : undefined,
  };
}

/**
 * Loads the engines (resolving their models first unless `models` is given). `onProgress` hears
 * `loading`, then `ready` or `failed`, per component. On any failure the engines already loaded
 * are closed and the error is rethrown (an `UndertoneError` with a code; `UT_ERR_MODEL_MISSING`
 * for absent weights).
 */
export async function createEngines(
  config: UndertoneConfig,
  log: Logger,
  onProgress: (progress: LoadProgress) => void = () => {},
  models?: EngineModels,
): Promise<Engines> {
  const agent = needsAgentEngines(config);
  const {
    asr: asrModel,
    llm: llmModel,
    tts: ttsModel,
  } = models ?? (await resolveEngineModels(config));

  const loaded: Array<{ close(): Promise<void> }> = [];
  const step = async <T extends { close(): Promise<void> }>(
    component: string,
    detail: string,
    load: () => Promise<T>,
  ): Promise<T> => {
    onProgress({ component, state: 'loading', detail });
    try {
      const engine = await load();
      loaded.push(engine);
      onProgress({ component, state: 'ready', detail });
      return engine;
    } catch (err) {
      onProgress({ component, state: 'failed', detail: (err as Error).message });
      throw err;
    }
  };

  try {
    // One at a time: each load is CPU-bound, and a small machine gains nothing from overlap.
    const vad = await step('vad', config.vad.model, () => loadVad(config, log));
    const asr = await step('asr', asrModel?.id ?? `remote ${config.asr.remote.url}`, () =>
      loadAsr(config, asrModel),
    );
    if (!agent) {
      log.info(
        { vad: config.vad.model, asr: asr.name },
        'engines loaded (transcribe mode: no LLM or TTS)',
      );
      return { vad, asr };
    }
    const llm = await step('llm', llmModel?.id ?? `remote ${config.llm.remote.url}`, () =>
      loadLlm(config, llmModel, log),
    );
    const tts = await step('tts', ttsModel?.id ?? `remote ${config.tts.remote.url}`, () =>
      loadTts(config, ttsModel, log),
    );
    log.info(
      { vad: config.vad.model, asr: asr.name, llm: llm.name, tts: tts.name },
      'engines loaded',
    );
    return { vad, asr, llm, tts };
  } catch (err) {
    await Promise.allSettled(loaded.map((engine) => engine.close()));
    throw err;
  }
}

/** Closes every engine, for shutdown; failures are logged, never thrown. */
export async function closeEngines(engines: Engines, log: Logger): Promise<void> {
  const all = [engines.vad, engines.asr, engines.llm, engines.tts].filter((e) => e !== undefined);
  const results = await Promise.allSettled(all.map((engine) => engine.close()));
  for (const result of results) {
    if (result.status === 'rejected') log.warn({ err: result.reason }, 'engine close failed');
  }
}

async function resolveTts(config: UndertoneConfig): Promise<ResolvedModel | undefined> {
  if (config.tts.engine === 'openai') return undefined;
  return resolveModelInfo('tts' satisfies ModelKind, config);
}

function loadVad(config: UndertoneConfig, log: Logger): Promise<VadEngine> {
  const vad = config.vad;
  return createSileroVadEngine({
    model: vad.model,
    batch: vad.batch,
    maxBatch: vad.maxBatch,
    threads: config.models.threads,
    defaults: {
      activationThreshold: vad.activationThreshold,
      deactivationThreshold: vad.deactivationThreshold,
      minSpeechMs: vad.minSpeechMs,
      minSilenceMs: vad.minSilenceMs,
      preSpeechPadMs: vad.preSpeechPadMs,
    },
    logger: log,
  });
}

async function loadAsr(
  config: UndertoneConfig,
  model: ResolvedModel | undefined,
): Promise<AsrEngine> {
  const asr = config.asr;
  if (!model) {
    return createOpenAiRemoteAsr({
      url: asr.remote.url!,
      apiKey: asr.remote.apiKey,
      model: asr.remote.model,
      language: asr.language === 'auto' ? undefined : asr.language,
    });
  }
  // In a worker thread by default: Whisper's feature extraction and decoding loop would
  // otherwise stall every session's real-time path on this event loop.
  const create = asr.worker ? createWhisperWorkerAsr : createWhisperLocalAsr;
  return create({
    modelDir: model.path,
    device: config.models.device,
    dtype: onnxDtype(model, asr.dtype),
    threads: config.models.threads,
    language: asr.language === 'auto' ? undefined : asr.language,
  });
}

async function loadLlm(
  config: UndertoneConfig,
  model: ResolvedModel | undefined,
  log: Logger,
): Promise<LlmEngine> {
  const llm = config.llm;
  const logger = log; // engines add their own { stage, engine } fields
  if (!model) {
    return new OpenAiChatEngine({
      url: llm.remote.url!,
      apiKey: llm.remote.apiKey,
      model: llm.remote.model,
      timeoutMs: llm.timeoutMs,
      maxTokens: llm.maxTokens,
      temperature: llm.temperature,
      logger,
    });
  }

  // The weights decide the runtime: a GGUF file runs on llama.cpp, a transformers.js folder (the
  // fixtures among them) on onnxruntime, whatever `llm.engine` names.
  if (model.format === 'gguf') {
    return LlamaCppEngine.create({
      modelPath: model.path,
      threads: llm.threads,
      gpu: config.models.device === 'cuda' ? 'cuda' : false,
      maxTokens: llm.maxTokens,
      temperature: llm.temperature,
      logger,
    });
  }
  if (llm.engine === 'llama-cpp') {
    log.info(
      { model: model.id, format: model.format },
      'llm model is not GGUF; running it on transformers.js',
    );
  }
  return TransformersLocalEngine.create({
    modelDir: model.path,
    device: config.models.device,
    dtype: onnxDtype(model, 'fp32'),
    threads: config.models.threads,
    maxTokens: llm.maxTokens,
    temperature: llm.temperature,
    logger,
  });
}

async function loadTts(
  config: UndertoneConfig,
  model: ResolvedModel | undefined,
  log: Logger,
): Promise<TtsEngine> {
  if (!model) {
    const tts = config.tts;
    return new OpenAiSpeechEngine({
      url: tts.remote.url!,
      apiKey: tts.remote.apiKey,
      model: tts.remote.model,
      voice: tts.voice,
      timeoutMs: tts.timeoutMs,
      logger: log,
    });
  }
  return TransformersTtsEngine.create({
    modelDir: model.path,
    device: config.models.device,
    dtype: onnxDtype(model, 'fp32'),
    threads: config.models.threads,
    timeoutMs: config.tts.timeoutMs,
    logger: log,
  });
}

/** The manifest's dtype where it names an ONNX one (its files are for that), else `fallback`. */
function onnxDtype(model: ResolvedModel, fallback: OnnxDtype): OnnxDtype {
  if (model.fixture) return 'fp32';
  return model.dtype && ONNX_DTYPES.includes(model.dtype) ? (model.dtype as OnnxDtype) : fallback;
}
