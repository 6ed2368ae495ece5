/**
 * Aggregates of the prosody frames of one speech segment (`ProsodySegment`): pitch level, range
 * and slope, loudness and its variation, voicing, and a speaking rate from energy peaks.
 */
import type { ProsodyFrame } from '../protocol/messages.js';
import type { ProsodySegment } from './types.js';

/** Syllable nuclei: energy peaks at least this much above the valleys beside them, in dB. */
const PEAK_PROMINENCE_DB = 3;
/** Two syllable nuclei are at least this far apart, in ms (at most 12.5 syllables/s). */
const MIN_PEAK_DISTANCE_MS = 80;
/** Energy below this counts as silence for the rate estimate, in dBFS. */
const RATE_FLOOR_DB = -60;

const EMPTY: ProsodySegment = {
  durationMs: 0,
  f0MeanHz: 0,
  f0RangeSemitones: 0,
  f0SlopeHzPerS: 0,
  energyMeanDb: 0,
  energyVarianceDb: 0,
  voicedRatio: 0,
  speakingRateSylPerS: 0,
};

/**
 * Summarises frames in time order.
 * @param hopMs spacing of the frames; taken from the frames themselves when omitted
 */
export function summarizeProsody(frames: readonly ProsodyFrame[], hopMs?: number): ProsodySegment {
  if (frames.length === 0) return { ...EMPTY };

  const hop =
    hopMs ??
    (frames.length > 1 ? (frames.at(-1)!.timeMs - frames[0]!.timeMs) / (frames.length - 1) : 20);
  const voiced = frames.filter((f) => f.voiced && f.f0Hz > 0);
  const f0 = voiced.map((f) => f.f0Hz);

  // Energy of the speech itself: voiced frames when there are enough, else every frame.
  const energies = (voiced.length >= 3 ? voiced : frames).map((f) => f.energyDb);
  const energyMeanDb = mean(energies);
  const energyVarianceDb = mean(energies.map((e) => (e - energyMeanDb) ** 2));

  const voicedSeconds = (voiced.length * hop) / 1000;
  const peaks = countEnergyPeaks(frames, hop);

  return {
    durationMs: frames.at(-1)!.timeMs - frames[0]!.timeMs + hop,
    f0MeanHz: f0.length ? mean(f0) : 0,
    f0RangeSemitones:
      f0.length >= 2 ? 12 * Math.log2(percentile(f0, 0.9) / percentile(f0, 0.1)) : 0,
    f0SlopeHzPerS: slope(
      voiced.map((f) => f.timeMs / 1000),
      f0,
    ),
    energyMeanDb,
    energyVarianceDb,
    voicedRatio: voiced.length / frames.length,
    speakingRateSylPerS: voicedSeconds > 0 ? peaks / voicedSeconds : 0,
  };
}

/**
 * Counts syllable-like peaks of the smoothed energy contour: local maxima, voiced, standing out
 * from the lowest point on each side (up to the next higher contour point) by the prominence.
 */
export function countEnergyPeaks(frames: readonly ProsodyFrame[], hopMs: number): number {
  const n = frames.length;
  const raw = frames.map((f) => Math.max(RATE_FLOOR_DB, f.energyDb));
  // Three-point smoothing takes out ripples within one syllable.
  const e = raw.map((v, i) => (raw[Math.max(0, i - 1)]! + v + raw[Math.min(n - 1, i + 1)]!) / 3);
  const minGap = Math.max(1, Math.round(MIN_PEAK_DISTANCE_MS / hopMs));

  let count = 0;
  let lastPeak = -Infinity;
  for (let i = 1; i < n - 1; i++) {
    if (!(e[i]! >= e[i - 1]! && e[i]! > e[i + 1]!) || !frames[i]!.voiced) continue;

    let leftMin = e[i]!;
    for (let j = i - 1; j >= 0 && e[j]! <= e[i]!; j--) leftMin = Math.min(leftMin, e[j]!);
    let rightMin = e[i]!;
    for (let j = i + 1; j < n && e[j]! <= e[i]!; j++) rightMin = Math.min(rightMin, e[j]!);
    if (e[i]! - Math.max(leftMin, rightMin) < PEAK_PROMINENCE_DB) continue;
    if (i - lastPeak < minGap) continue;

    count++;
    lastPeak = i;
  }
  return count;
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Least-squares slope of y over x; 0 for fewer than two points or no spread in x. */
function slope(x: readonly number[], y: readonly number[]): number {
  if (x.length < 2) return 0;

  const mx = mean(x);
  const my = mean(y);
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i]! - mx) * (y[i]! - my);
    den += (x[i]! - mx) ** 2;
  }
  return den > 0 ? num / den : 0;
}
