/**
 * The real per-session stage objects, built from the process's shared engines. One ASR
 * scheduler is kept per ASR engine (so per process): every session's decodes queue there.
 */
import { createAsrScheduler, type AsrScheduler } from '../asr/asr-scheduler.js';
import { createStreamingTranscriber } from '../asr/streaming-transcriber.js';
import type { AsrEngine } from '../asr/types.js';
import { createAgentAudioEncoder } from '../audio/agent-audio-encoder.js';
import { AudioInput } from '../audio/audio-input.js';
import { ProsodyTracker } from '../prosody/prosody-tracker.js';
import {
  ConversationHistory,
  formatEmotionNote,
  type EmotionContext,
} from '../llm/conversation-history.js';
import type { ChatMessage, LlmEngine } from '../llm/types.js';
import type { ConversationPort, StageContext, StageFactories } from './stage-ports.js';

const schedulers = new WeakMap<AsrEngine, AsrScheduler>();

/** The process-wide scheduler in front of `engine`, created on first use. */
export function sharedAsrScheduler(engine: AsrEngine, ctx: StageContext): AsrScheduler {
  let scheduler = schedulers.get(engine);
  if (!scheduler) {
    const { asr } = ctx.config;
    scheduler = createAsrScheduler({
      engine,
      maxQueue: asr.maxQueue,
      batch: asr.batch,
      maxBatch: asr.maxBatch,
      concurrency: asr.engine === 'remote' ? 4 : 1,
      log: ctx.log,
    });
    schedulers.set(engine, scheduler);
  }
  return scheduler;
}

/** Wraps `ConversationHistory` (token budget, system prompt) as the pipeline's port. */
export function conversationFor(
  ctx: StageContext,
  llm: LlmEngine,
  callerEmotion: () => EmotionContext | undefined = () => undefined,
): ConversationPort {
  const history = new ConversationHistory({
    systemPrompt: ctx.config.llm.systemPrompt,
    historyTokens: ctx.config.llm.historyTokens,
    countTokens: (text) => llm.countTokens(text),
  });
  // The emotion noted in a turn's prompt is the one kept with it in the history.
  let promptEmotion: EmotionContext | undefined;
  return {
    prompt: (userText: string): ChatMessage[] => {
      promptEmotion = callerEmotion();
      const note = promptEmotion ? ` ${formatEmotionNote(promptEmotion)}` : '';
      return [...history.messages(), { role: 'user', content: `${userText}${note}` }];
    },
    add(userText, assistantText) {
      history.addUser(userText, promptEmotion);
      promptEmotion = undefined;
      if (assistantText.trim()) history.addAssistant(assistantText.trim());
    },
    get messages() {
      return history.messages();
    },
  };
}

export const defaultStageFactories: StageFactories = {
  inputDecoder: (ctx) =>
    new AudioInput(ctx.start.audio, { channelLayout: ctx.start.channelLayout ?? 'mixed' }),
  prosody: () => new ProsodyTracker(),
  transcriber: (ctx, track, asr) =>
    createStreamingTranscriber({
      scheduler: sharedAsrScheduler(asr, ctx),
      partialIntervalMs: ctx.config.asr.partialIntervalMs,
      language: ctx.config.asr.language,
      log: ctx.log,
    }),
  agentEncoder: (_ctx, output) => createAgentAudioEncoder(output),
  conversation: conversationFor,
};
