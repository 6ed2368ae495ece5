/** Sample rate of everything after decoding: VAD, prosody, ASR and emotion all run at 16 kHz. */
export const INTERNAL_SAMPLE_RATE_HZ = 16_000;

/** Samples per ms at the internal rate. */
export const SAMPLES_PER_MS = INTERNAL_SAMPLE_RATE_HZ / 1000;

/** Mono float samples in [-1, 1] at a known rate. */
export interface PcmChunk {
  samples: Float32Array;
  sampleRateHz: number;
}
