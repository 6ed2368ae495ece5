export type { ProsodyFrame } from '../protocol/messages.js';

/** Aggregates of one speech segment. */
export interface ProsodySegment {
  durationMs: number;
  /** Mean F0 of voiced frames in Hz (0 when none). */
  f0MeanHz: number;
  /** F0 range of voiced frames in semitones (p90 over p10). */
  f0RangeSemitones: number;
  /** Least-squares slope of voiced F0 over time, Hz per second. */
  f0SlopeHzPerS: number;
  energyMeanDb: number;
  energyVarianceDb: number;
  voicedRatio: number;
  /** Estimated syllables per second (energy-peak count over voiced time). */
  speakingRateSylPerS: number;
}
