/**
 * What the pipeline needs from the per-session stage objects, stated narrowly. The real stages
 * (`audio/`, `prosody/`, `asr/`, `llm/`) are adapted to these ports in `stage-factories.ts`, so
 * the turn logic does not move when a stage's own API grows.
 */
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import type { ChatMessage, LlmEngine } from '../llm/types.js';
import type { EmotionContext } from '../llm/conversation-history.js';
import type { AsrEngine } from '../asr/types.js';
import type { AgentAudioEncoder } from '../audio/agent-audio-encoder.js';
import type { AudioInput } from '../audio/audio-input.js';
import type { StreamingTranscriber } from '../asr/streaming-transcriber.js';
import type { Codec, ProsodyFrame, SessionStartMessage } from '../protocol/messages.js';

/** Streaming prosody of one track; frame times are track ms. */
export interface ProsodyPort {
  push(samples: Float32Array): ProsodyFrame[];
}

/** The conversation kept for the LLM. */
export interface ConversationPort {
  /** Messages for a reply to `userText`: system prompt, kept history, then the user turn. */
  prompt(userText: string): ChatMessage[];
  /** Stores a finished (or cut) exchange. */
  add(userText: string, assistantText: string): void;
  readonly messages: readonly ChatMessage[];
}

export interface TrackInfo {
  index: number;
  role?: string;
}

export interface StageContext {
  config: UndertoneConfig;
  start: SessionStartMessage;
  log: Logger;
}

/** The agent audio format of a session. */
export interface OutputFormat {
  codec: Codec;
  sampleRateHz: number;
  frameMs: number;
}

/** Builders of per-session stage objects; `stage-factories.ts` has the real ones. */
export interface StageFactories {
  inputDecoder(ctx: StageContext): AudioInput;
  prosody(ctx: StageContext, track: TrackInfo): ProsodyPort | undefined;
  /** `asr` is the process's engine; the factory puts the shared scheduler in front of it. */
  transcriber(ctx: StageContext, track: TrackInfo, asr: AsrEngine): StreamingTranscriber;
  agentEncoder(ctx: StageContext, output: OutputFormat): AgentAudioEncoder;
  /** `callerEmotion` gives the caller's latest confident emotion, noted in the user turn. */
  conversation(
    ctx: StageContext,
    llm: LlmEngine,
    callerEmotion?: () => EmotionContext | undefined,
  ): ConversationPort;
}

// The emotion stage's hook types live with the stage (a stage never imports pipeline/).
export type {
  EmotionObserverFactory,
  EmotionResult,
  TrackEmotionObserver,
} from '../emotion/types.js';
