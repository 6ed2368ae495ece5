export interface SynthesizeOptions {
  signal?: AbortSignal;
  voice?: string;
}

/** Text to speech, streamed in chunks of mono float audio at `sampleRateHz`. */
export interface TtsEngine {
  readonly name: string;
  readonly sampleRateHz: number;
  synthesize(text: string, options?: SynthesizeOptions): AsyncIterable<Float32Array>;
  close(): Promise<void>;
}
