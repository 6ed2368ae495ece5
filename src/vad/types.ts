import type { Observable } from 'rxjs';
import type { Logger } from 'pino';

/** Segmenter settings; see `config/schema.ts` (`vad.*`) for defaults. */
export interface VadOptions {
  activationThreshold: number;
  deactivationThreshold: number;
  minSpeechMs: number;
  minSilenceMs: number;
  preSpeechPadMs: number;
}

export type VadEvent =
  /** Speech confirmed. `startMs` includes the pre-speech padding; `audio` is that padding plus the speech so far. */
  | { type: 'speech-start'; startMs: number; audio: Float32Array }
  /** More audio of an open segment (every window while speech goes on, silence inside it included). */
  | { type: 'speech-audio'; audio: Float32Array; endMs: number }
  /**
   * Segment ended. `audio` is the whole segment, padding included:
   * `audio.length === (endMs - startMs) * 16` exactly.
   */
  | { type: 'speech-end'; startMs: number; endMs: number; audio: Float32Array }
  /** Speech probability of one window (trace level; used by barge-in and echo checks). */
  | { type: 'probability'; endMs: number; probability: number };

/** One stream of a session track: 16 kHz mono in, speech events out. */
export interface VadStream {
  /** Feeds 16 kHz mono samples of any length. Results arrive asynchronously on `events`. */
  push(samples: Float32Array): void;
  /** Closes an open segment at the end of the audio pushed so far and waits for its events. */
  flush(): Promise<void>;
  readonly events: Observable<VadEvent>;
  /** Ms of audio pushed so far. */
  readonly positionMs: number;
  close(): void;
}

/** The shared model of a process: one ONNX session, windows batched across streams. */
export interface VadEngine {
  /** `log`: the session's logger, so a stream's warnings carry its session id. */
  createStream(options?: Partial<VadOptions>, log?: Logger): VadStream;
  close(): Promise<void>;
}
