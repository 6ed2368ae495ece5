export interface AsrWord {
  text: string;
  startMs: number;
  endMs: number;
}

export interface AsrOptions {
  /** ISO language code, or undefined to detect (multilingual models). */
  language?: string;
  /** Text that precedes this audio (committed text), to keep long speech consistent. */
  prompt?: string;
  /** `partial` requests may be shed when the scheduler is behind; `final` never are. */
  priority?: 'partial' | 'final';
  signal?: AbortSignal;
}

export interface AsrResult {
  text: string;
  language: string;
  /** Segment-level timing relative to the start of the audio passed in. */
  segments: AsrWord[];
  words?: AsrWord[];
  /** Whisper's failure signs, when the engine can compute them. */
  noSpeechProb?: number;
  avgLogprob?: number;
  compressionRatio?: number;
}

/** One entry of `AsrEngine.transcribeBatch`. */
export interface AsrBatchRequest {
  audio: Float32Array;
  options?: AsrOptions;
}

/** Turns one piece of 16 kHz mono audio (up to 30 s) into text. Shared by all sessions. */
export interface AsrEngine {
  readonly name: string;
  transcribe(audio: Float32Array, options?: AsrOptions): Promise<AsrResult>;
  /**
   * Decodes several requests in one run where the engine can (a batched encoder). Results come
   * in request order; one request's failure is its own Error entry, not a rejection of all.
   */
  transcribeBatch?(requests: AsrBatchRequest[]): Promise<(AsrResult | Error)[]>;
  close(): Promise<void>;
}
