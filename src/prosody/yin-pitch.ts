/**
 * F0 of one frame by YIN (de Cheveigne and Kawahara, 2002): the cumulative-mean-normalised
 * difference function, the first dip under a threshold, parabolic refinement.
 *
 * For speed the search runs on the frame decimated by two (a [1/4, 1/2, 1/4] low-pass, then every
 * other sample) and stops at the first accepted dip; the period is then refined at the full rate
 * on five lags around it. That keeps a voiced frame near 5 000 multiply-adds.
 */

export interface YinOptions {
  /** Rate of the frames, in Hz. Default 16000. */
  sampleRateHz?: number;
  /** Lowest F0 searched, in Hz. Default 60. */
  fMinHz?: number;
  /** Highest F0 searched, in Hz. Default 500. */
  fMaxHz?: number;
  /** Largest normalised difference accepted as periodic (YIN's threshold). Default 0.2. */
  threshold?: number;
}

export interface PitchEstimate {
  /** F0 in Hz, or 0 when the frame is not periodic. */
  f0Hz: number;
  /** Normalised difference at the chosen period: 0 = perfectly periodic, ~1 = noise. */
  aperiodicity: number;
}

export class YinPitchDetector {
  readonly sampleRateHz: number;
  readonly frameSamples: number;
  private readonly threshold: number;
  private readonly minLag: number;
  private readonly maxLag: number;
  private readonly window: number;
  /** The decimated frame. */
  private readonly low: Float64Array;
  /** Normalised difference per (decimated) lag. */
  private readonly cmnd: Float64Array;

  constructor(frameSamples: number, options: YinOptions = {}) {
    this.sampleRateHz = options.sampleRateHz ?? 16000;
    this.frameSamples = frameSamples;
    this.threshold = options.threshold ?? 0.2;
    const lowRate = this.sampleRateHz / 2;
    this.minLag = Math.max(2, Math.floor(lowRate / (options.fMaxHz ?? 500)));
    this.maxLag = Math.ceil(lowRate / (options.fMinHz ?? 60));
    const lowLength = frameSamples >> 1;
    this.window = lowLength - this.maxLag - 1;
    if (this.window < this.maxLag / 2) {
      throw new RangeError(
        `a frame of ${frameSamples} samples is too short for F0 down to ${options.fMinHz ?? 60} Hz`,
      );
    }
    this.low = new Float64Array(lowLength);
    this.cmnd = new Float64Array(this.maxLag + 2);
  }

  /** Estimates F0 of `frame[offset, offset + frameSamples)`. */
  detect(frame: ArrayLike<number>, offset = 0): PitchEstimate {
    const { low, cmnd, window, minLag, maxLag, threshold } = this;
    const n = low.length;
    for (let i = 0; i < n; i++) {
      const c = offset + 2 * i;
      const prev = i === 0 ? frame[c]! : frame[c - 1]!;
      low[i] = 0.25 * prev + 0.5 * frame[c]! + 0.25 * frame[c + 1]!;
    }

    // d(tau) = e(0) + e(tau) - 2 r(tau), with the window energies e slid along: one
    // multiply-add per sample and lag instead of three operations.
    let energy0 = 0;
    for (let j = 0; j < window; j++) energy0 += low[j]! * low[j]!;
    let energyTau = energy0;

    cmnd[0] = 1;
    let running = 0;
    let best = -1;
    let bestValue = Infinity;
    for (let tau = 1; tau <= maxLag + 1; tau++) {
      energyTau += low[tau - 1 + window]! * low[tau - 1 + window]! - low[tau - 1]! * low[tau - 1]!;
      let r = 0;
      for (let j = 0; j < window; j++) r += low[j]! * low[j + tau]!;
      const d = Math.max(0, energy0 + energyTau - 2 * r);
      running += d;
      const value = running > 0 ? (d * tau) / running : 1;
      cmnd[tau] = value;
      if (tau - 1 < minLag || tau - 1 > maxLag) continue;

      // tau - 1 is a local minimum: accept the first one under the threshold.
      const prev = cmnd[tau - 1]!;
      if (prev <= value && prev <= cmnd[tau - 2]!) {
        if (prev < threshold) {
          best = tau - 1;
          bestValue = prev;
          break;
        }
        if (prev < bestValue) {
          best = tau - 1;
          bestValue = prev;
        }
      }
    }
    if (best < 0 || bestValue >= threshold) {
      return { f0Hz: 0, aperiodicity: Math.min(1, best < 0 ? 1 : bestValue) };
    }

    return { f0Hz: this.refine(frame, offset, 2 * best), aperiodicity: bestValue };
  }

  /** Period at the full rate near `lag`, by a parabola through the smallest difference. */
  private refine(frame: ArrayLike<number>, offset: number, lag: number): number {
    const span = Math.min(2 * this.window, this.frameSamples - lag - 3);
    const d = (tau: number): number => {
      let sum = 0;
      for (let j = 0; j < span; j++) {
        const diff = frame[offset + j]! - frame[offset + j + tau]!;
        sum += diff * diff;
      }
      return sum;
    };

    let at = lag;
    let mid = d(at);
    let left = d(at - 1);
    let right = d(at + 1);
    // Walk at most two steps downhill: the decimated lag is within one of the true one.
    for (let step = 0; step < 2; step++) {
      if (left < mid && at - 2 >= 2) {
        at--;
        right = mid;
        mid = left;
        left = d(at - 1);
      } else if (right < mid) {
        at++;
        left = mid;
        mid = right;
        right = d(at + 1);
      } else break;
    }

    const curve = left - 2 * mid + right;
    const shift = curve > 0 ? (0.5 * (left - right)) / curve : 0;
    return this.sampleRateHz / (at + Math.max(-0.5, Math.min(0.5, shift)));
  }
}
