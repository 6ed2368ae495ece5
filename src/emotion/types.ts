/**
 * The emotion stage's hook into a session: one observer per speaker track, fed prosody frames
 * and text as they come, emitting `emotion.update` / `emotion.final` bodies. The pipeline calls it
 * through these types; nothing here knows about pipeline/.
 */
import type { Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import type {
  EmotionUpdateEvent,
  ProsodyFrame,
  SessionStartMessage,
} from '../protocol/messages.js';

/** Emotion events without the fields the session fills in. */
export type EmotionResult = Omit<EmotionUpdateEvent, 'sessionId' | 'timeMs' | 'track'>;

export interface TrackEmotionObserver {
  prosody(frames: ProsodyFrame[]): void;
  speechStarted(segmentId: string, startMs: number): void;
  partial(segmentId: string, text: string): void;
  final(segmentId: string, text: string, startMs: number, endMs: number): void;
  readonly results: Observable<EmotionResult>;
  close(): void;
}

/** What an observer may know of its session and track. */
export interface EmotionSessionContext {
  config: UndertoneConfig;
  start: SessionStartMessage;
  log: Logger;
}

export interface EmotionTrack {
  index: number;
  role?: string;
}

/** Builds the observer of one track, or undefined where emotion is off for it. */
export type EmotionObserverFactory = (
  ctx: EmotionSessionContext,
  track: EmotionTrack,
) => TrackEmotionObserver | undefined;
