/**
 * The contract between the edges (gateway, Twilio endpoint, tests) and a voice session. A session
 * knows nothing about sockets: a transport pushes codec payloads and client messages in, and
 * receives server events and encoded agent audio through a `SessionSink`.
 */
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import type {
  ClientMessage,
  ServerEvent,
  SessionEndedEvent,
  SessionStartMessage,
} from '../protocol/messages.js';
import type { AsrEngine } from '../asr/types.js';
import type { LlmEngine } from '../llm/types.js';
import type { TtsEngine } from '../tts/types.js';
import type { VadEngine } from '../vad/types.js';
import type { EmotionObserverFactory, StageFactories } from './stage-ports.js';

/** The shared engines of a process, loaded once and used by every session. */
export interface Engines {
  vad: VadEngine;
  asr: AsrEngine;
  /** Absent in a transcribe-only deployment. */
  llm?: LlmEngine;
  tts?: TtsEngine;
}

/** One encoded frame of agent audio, ready for a transport to wrap. */
export interface AgentAudioFrame {
  responseId: string;
  /** Response number, carried in the binary header's `stream` field. */
  stream: number;
  seq: number;
  /** Media time of the frame's start within the response, in ms. */
  timestampMs: number;
  durationMs: number;
  /** Encoded in the session's output codec (Opus packet, PCM16 LE, or G.711 bytes). */
  payload: Uint8Array;
}

/** Where a session's output goes. Swapped on resume, so it must not be captured elsewhere. */
export interface SessionSink {
  /**
   * One server event. `eventIndex` counts the session's events from 0 (session.started); a
   * transport that remembers the last index it delivered passes it to `attach` on resume.
   */
  event(event: ServerEvent, eventIndex?: number): void;
  audio(frame: AgentAudioFrame): void;
}

export interface AudioPushMeta {
  /** Frame sequence number from the binary header, when the transport has one. */
  seq?: number;
  /** Capture timestamp in ms from the binary header. */
  timestampMs?: number;
}

export interface VoiceSession {
  readonly id: string;
  readonly mode: 'agent' | 'transcribe';
  readonly resumeToken: string;
  /** Feeds one codec payload (the binary frame without its header). */
  pushAudio(payload: Uint8Array, meta?: AudioPushMeta): void;
  /** Handles a client message other than `session.start`. */
  handleMessage(message: Exclude<ClientMessage, SessionStartMessage>): void;
  /** Routes output to a new sink (a resumed connection); events missed meanwhile are replayed. */
  attach(sink: SessionSink, replayAfterEventIndex?: number): void;
  /** Stops output while a dropped client may come back. */
  detach(): void;
  /** Ends the session: open segments are finished and delivered, then `session.ended`. */
  end(reason: string): Promise<SessionEndedEvent>;
  /** Index of the last event emitted (-1 before any). */
  readonly lastEventIndex: number;
  /** Turn-taking state of an agent session (`listening` in transcribe mode). */
  readonly turnState: TurnState;
  /** True once `end` was called. */
  readonly ended: boolean;
}

/** Turn-taking states of an agent session. */
export type TurnState = 'listening' | 'user-speaking' | 'thinking' | 'agent-speaking';

export interface SessionDeps {
  config: UndertoneConfig;
  engines: Engines;
  log: Logger;
  sink: SessionSink;
  /**
   * Builders of the per-session stage objects (decoder, prosody, transcriber, encoder, history).
   * Defaults are the real ones in `stage-factories.ts`; tests may replace single pieces.
   */
  stages?: Partial<StageFactories>;
  /** Per-track emotion observers (the emotion stage); absent = no emotion events. */
  emotion?: EmotionObserverFactory;
  /** Events kept for replay after a detach (default 512). */
  replayBufferEvents?: number;
}

/** Creates a session from an already validated start message. */
export type CreateSession = (start: SessionStartMessage, deps: SessionDeps) => VoiceSession;
