/**
 * Tells the agent's own voice, coming back through the caller's microphone, from the caller
 * speaking. The session knows exactly what agent audio it sent and when it was due to play, so it
 * keeps that as a reference on the inbound timeline (16 kHz samples of track 0). For a window of
 * inbound audio the guard finds the delay (0 to `maxDelayMs`) and gain at which the reference best
 * explains it, subtracts it, and looks at what is left: a residual far below the input means the
 * window is echo; real speech over the echo leaves a strong residual.
 *
 * Delay search: normalised cross-correlation on the signals decimated by 8 (2 kHz), over a 256 ms
 * block, then refined at full rate. The full search runs every `searchEveryWindows` windows or
 * when the kept delay stops explaining the input; in between only the refinement runs.
 *
 * Not an echo canceller: nothing is removed from the audio that VAD and ASR see. It is a detector
 * for turn-taking, and assumes a mostly linear echo path (speaker to mic with a gain and a delay).
 */

const RATE_PER_MS = 16;
const DECIMATION = 8;
/** Inbound samples analysed per decision (64 ms). */
const BLOCK = 1024;
/** Samples used for the delay search (256 ms). */
const SEARCH_BLOCK = 4096;
const REFINE_SAMPLES = 12;

export interface EchoGuardOptions {
  /** Longest echo delay looked for, in ms (default 500: 300 ms of path plus the playout lead). */
  maxDelayMs?: number;
  /** Share of the window's energy the residual may keep and still be echo (default 0.3). */
  maxResidualRatio?: number;
  /** Residual RMS below this is silence whatever the ratio, in dBFS (default -55). */
  residualFloorDb?: number;
  /** History kept of both signals, in ms (default 12 000). */
  historyMs?: number;
  searchEveryWindows?: number;
}

export interface EchoVerdict {
  /** True when the window is explained by the agent's own audio. */
  echo: boolean;
  /** False when no agent audio could be in this window (nothing to compare). */
  referenceActive: boolean;
  residualRatio: number;
  residualDb: number;
  delayMs: number;
  gain: number;
}

/** A ring of samples addressed by absolute position; unwritten positions read as 0. */
class TimelineRing {
  private readonly data: Float32Array;
  /** One past the highest position written. */
  end = 0;

  constructor(size: number) {
    this.data = new Float32Array(size);
  }

  /** Writes (adds, for overlapping reference) `samples` at absolute `position`. */
  write(position: number, samples: Float32Array, add: boolean): void {
    const size = this.data.length;
    // Zero the gap between the old end and the new write, so stale data never reads back.
    for (let p = this.end; p < position && p - this.end < size; p++) this.data[p % size] = 0;
    for (let i = 0; i < samples.length; i++) {
      const p = position + i;
      if (p < 0 || p <= this.end - size) continue;
      const at = p % size;
      this.data[at] = (add && p < this.end ? this.data[at]! : 0) + samples[i]!;
    }
    this.end = Math.max(this.end, position + samples.length);
  }

  /** Copies positions [from, from + length) into `into`. */
  read(from: number, into: Float32Array): Float32Array {
    const size = this.data.length;
    for (let i = 0; i < into.length; i++) {
      const p = from + i;
      into[i] = p < 0 || p >= this.end || p <= this.end - size ? 0 : this.data[p % size]!;
    }
    return into;
  }
}

export class EchoGuard {
  private readonly maxDelay: number;
  private readonly maxResidualRatio: number;
  private readonly floorEnergy: number;
  private readonly inbound: TimelineRing;
  private readonly reference: TimelineRing;
  private readonly searchEvery: number;
  private delay = -1;
  private windowsSinceSearch = 0;
  /** Last reference position with non-zero audio. */
  private referenceEnd = -1;

  constructor(options: EchoGuardOptions = {}) {
    this.maxDelay = Math.round((options.maxDelayMs ?? 500) * RATE_PER_MS);
    this.maxResidualRatio = options.maxResidualRatio ?? 0.3;
    const floorRms = 10 ** ((options.residualFloorDb ?? -55) / 20);
    this.floorEnergy = floorRms * floorRms;
    const size = Math.round((options.historyMs ?? 12_000) * RATE_PER_MS);
    this.inbound = new TimelineRing(size);
    this.reference = new TimelineRing(size);
    this.searchEvery = options.searchEveryWindows ?? 4;
  }

  /** Inbound samples of the caller's track, in order. */
  pushInbound(samples: Float32Array): void {
    this.inbound.write(this.inbound.end, samples, false);
  }

  /** Samples of inbound audio received so far. */
  get inboundPosition(): number {
    return this.inbound.end;
  }

  /** Agent audio (16 kHz) due to play from inbound sample `position` on. */
  addReference(position: number, samples: Float32Array): void {
    const at = Math.round(position);
    this.reference.write(at, samples, true);
    this.referenceEnd = Math.max(this.referenceEnd, at + samples.length);
  }

  /** True when agent audio may still be heard at inbound sample `position`. */
  referenceActiveAt(position: number): boolean {
    return this.referenceEnd >= 0 && position - BLOCK - this.maxDelay < this.referenceEnd;
  }

  /** Judges the inbound audio that ends at sample `endPosition` (a VAD window's end). */
  analyze(endPosition: number): EchoVerdict {
    const none: EchoVerdict = {
      echo: false,
      referenceActive: false,
      residualRatio: 1,
      residualDb: -120,
      delayMs: 0,
      gain: 0,
    };
    if (!this.referenceActiveAt(endPosition)) return none;

    const x = this.inbound.read(endPosition - BLOCK, new Float32Array(BLOCK));
    const ex = dot(x, x, 0);
    if (ex / BLOCK < this.floorEnergy) return { ...none, referenceActive: true, echo: true };

    const refStart = endPosition - BLOCK - this.maxDelay - REFINE_SAMPLES;
    const refLength = BLOCK + this.maxDelay + 2 * REFINE_SAMPLES;
    const ref = this.reference.read(refStart, new Float32Array(refLength));
    // Lag `d` aligns x[i] with ref[offset(d) + i]; offset grows as the delay shrinks.
    const offsetOf = (d: number): number => this.maxDelay + REFINE_SAMPLES - d;

    let best = this.delay >= 0 ? this.refine(x, ref, this.delay, offsetOf) : undefined;
    this.windowsSinceSearch++;
    const stale = best === undefined || best.ratio > this.maxResidualRatio;
    if (stale || this.windowsSinceSearch >= this.searchEvery) {
      const coarse = this.search(endPosition);
      if (coarse >= 0) {
        const candidate = this.refine(x, ref, coarse, offsetOf);
        if (!best || candidate.ratio < best.ratio) best = candidate;
      }
      this.windowsSinceSearch = 0;
    }
    if (!best) return { ...none, referenceActive: true };

    this.delay = best.delay;
    const residualEnergy = best.ratio * ex;
    return {
      echo: best.ratio <= this.maxResidualRatio || residualEnergy / BLOCK < this.floorEnergy,
      referenceActive: true,
      residualRatio: best.ratio,
      residualDb: 10 * Math.log10(residualEnergy / BLOCK + 1e-12),
      delayMs: best.delay / RATE_PER_MS,
      gain: best.gain,
    };
  }

  /** Least-squares fit of the reference at delays around `center`; the best residual share. */
  private refine(
    x: Float32Array,
    ref: Float32Array,
    center: number,
    offsetOf: (d: number) => number,
  ): { delay: number; ratio: number; gain: number } {
    const ex = dot(x, x, 0);
    let best = { delay: center, ratio: 1, gain: 0 };
    for (let d = center - REFINE_SAMPLES; d <= center + REFINE_SAMPLES; d++) {
      if (d < 0 || d > this.maxDelay) continue;
      const off = offsetOf(d);
      const xr = dotOffset(x, ref, off);
      const rr = dotOffset(ref.subarray(off, off + x.length), ref.subarray(off, off + x.length), 0);
      if (rr <= 0) continue;
      const ratio = Math.max(0, ex - (xr * xr) / rr) / ex;
      if (ratio < best.ratio) best = { delay: d, ratio, gain: xr / rr };
    }
    return best;
  }

  /** Coarse delay from normalised cross-correlation of decimated signals; -1 when none fits. */
  private search(endPosition: number): number {
    const n = SEARCH_BLOCK / DECIMATION;
    const maxLag = Math.ceil(this.maxDelay / DECIMATION);
    const inbound = this.inbound.read(endPosition - SEARCH_BLOCK, new Float32Array(SEARCH_BLOCK));
    const x = decimate(inbound);
    const refLength = SEARCH_BLOCK + maxLag * DECIMATION;
    const ref = decimate(this.reference.read(endPosition - refLength, new Float32Array(refLength)));
    let bestLag = -1;
    let bestScore = 0;
    for (let lag = 0; lag <= maxLag; lag++) {
      const off = maxLag - lag;
      let xr = 0;
      let rr = 0;
      for (let i = 0; i < n; i++) {
        const r = ref[off + i]!;
        xr += x[i]! * r;
        rr += r * r;
      }
      if (rr <= 0) continue;
      const score = (xr * xr) / rr;
      if (xr > 0 && score > bestScore) {
        bestScore = score;
        bestLag = lag;
      }
    }
    return bestLag < 0 ? -1 : bestLag * DECIMATION;
  }
}

function dot(a: Float32Array, b: Float32Array, offset: number): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[offset + i]!;
  return sum;
}

function dotOffset(x: Float32Array, ref: Float32Array, offset: number): number {
  return dot(x, ref, offset);
}

/** Averages groups of `DECIMATION` samples: a crude low-pass, enough to find a delay. */
function decimate(samples: Float32Array): Float32Array {
  const out = new Float32Array(Math.floor(samples.length / DECIMATION));
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let k = 0; k < DECIMATION; k++) sum += samples[i * DECIMATION + k]!;
    out[i] = sum / DECIMATION;
  }
  return out;
}
