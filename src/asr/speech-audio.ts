/**
 * Model-free checks on 16 kHz mono audio that the ASR stage runs before and around decodes:
 * how much of it is voiced (a pitch in the range of human voices), and where the quietest point
 * of a span is, to cut speech longer than Whisper's 30 s window at a pause.
 */

const RATE_HZ = 16_000;
/** Analysis runs at 8 kHz: frames of 40 ms, hop 20 ms. */
const FRAME = 320;
const HOP = 160;
/** Pitch lags at 8 kHz: 70 Hz to 400 Hz. */
const MIN_LAG = 20;
const MAX_LAG = 114;

/** Voicing thresholds; defaults suit telephone and wideband speech alike. */
export interface VoicingOptions {
  /** Frames quieter than this RMS, in dBFS, are unvoiced. */
  minFrameDb: number;
  /** Normalised autocorrelation peak at a pitch lag that makes a frame voiced. */
  minPeak: number;
  /** Zero crossings per 8 kHz sample above which a frame is noise or a high tone. */
  maxZeroCrossingRate: number;
}

export const DEFAULT_VOICING: Readonly<VoicingOptions> = Object.freeze({
  minFrameDb: -50,
  minPeak: 0.6,
  maxZeroCrossingRate: 0.25,
});

/**
 * Counts voiced audio incrementally: push samples as they arrive, read `voicedMs`. Speech has
 * hundreds of ms of it per second; silence, hum-free noise and clatter have next to none.
 */
export class VoicingMeter {
  private pending = new Float32Array(0);
  private voicedFrames = 0;
  private readonly options: VoicingOptions;

  constructor(options: Partial<VoicingOptions> = {}) {
    this.options = { ...DEFAULT_VOICING, ...options };
  }

  /** Ms of voiced audio seen so far (20 ms per voiced frame hop). */
  get voicedMs(): number {
    return this.voicedFrames * 20;
  }

  /** Feeds 16 kHz samples. */
  push(samples16k: Float32Array): void {
    const half = decimate(samples16k);
    const joined = new Float32Array(this.pending.length + half.length);
    joined.set(this.pending);
    joined.set(half, this.pending.length);
    let at = 0;
    for (; at + FRAME <= joined.length; at += HOP) {
      if (isVoiced(joined.subarray(at, at + FRAME), this.options)) this.voicedFrames++;
    }
    this.pending = joined.slice(at);
  }
}

/** Ms of voiced audio in a whole buffer of 16 kHz samples. */
export function voicedMs(samples16k: Float32Array, options?: Partial<VoicingOptions>): number {
  const meter = new VoicingMeter(options);
  meter.push(samples16k);
  return meter.voicedMs;
}

/** Halves the rate by averaging sample pairs (a crude low-pass, enough for pitch). */
function decimate(samples: Float32Array): Float32Array {
  const out = new Float32Array(samples.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const a = samples[2 * i]!;
    const b = samples[2 * i + 1]!;
    out[i] = (Number.isFinite(a) ? a : 0) / 2 + (Number.isFinite(b) ? b : 0) / 2;
  }
  return out;
}

function isVoiced(frame: Float32Array, options: VoicingOptions): boolean {
  let mean = 0;
  for (let i = 0; i < frame.length; i++) mean += frame[i]!;
  mean /= frame.length;

  let energy = 0;
  let crossings = 0;
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i]! - mean;
    energy += v * v;
    if (i > 0 && (frame[i - 1]! - mean) * v < 0) crossings++;
  }
  if (energy === 0) return false;
  if (10 * Math.log10(energy / frame.length) < options.minFrameDb) return false;
  if (crossings / frame.length > options.maxZeroCrossingRate) return false;

  let best = 0;
  for (let lag = MIN_LAG; lag <= MAX_LAG; lag++) {
    let dot = 0;
    let e1 = 0;
    let e2 = 0;
    for (let i = 0; i + lag < frame.length; i++) {
      const a = frame[i]! - mean;
      const b = frame[i + lag]! - mean;
      dot += a * b;
      e1 += a * a;
      e2 += b * b;
    }
    const r = dot / Math.sqrt(e1 * e2 + 1e-12);
    if (r > best) best = r;
  }
  return best >= options.minPeak;
}

/**
 * The sample index of the quietest 100 ms stretch (its centre) whose centre lies in
 * `[fromSample, toSample)`: where to cut long speech so that no word is split. Energy is
 * measured in 10 ms steps.
 */
export function quietestPoint(samples: Float32Array, fromSample: number, toSample: number): number {
  const step = RATE_HZ / 100;
  const span = 10;
  const from = Math.max(0, Math.floor(fromSample / step));
  const to = Math.min(Math.floor(samples.length / step), Math.ceil(toSample / step));
  const energy: number[] = [];
  for (let f = 0; f < Math.floor(samples.length / step); f++) {
    let sum = 0;
    for (let i = f * step; i < (f + 1) * step; i++) {
      const s = samples[i]!;
      if (Number.isFinite(s)) sum += s * s;
    }
    energy.push(sum);
  }
  let bestAt = Math.min(toSample, samples.length);
  let bestEnergy = Infinity;
  for (let centre = from; centre < to; centre++) {
    let sum = 0;
    for (let f = centre - span / 2; f < centre + span / 2; f++) sum += energy[f] ?? 0;
    // `<=` keeps the latest of equal minima: longer pieces, fewer seams.
    if (sum <= bestEnergy) {
      bestEnergy = sum;
      bestAt = centre * step;
    }
  }
  return bestAt;
}

/**
 * Splits audio longer than `maxSamples` into pieces of at most that length, each cut at the
 * quietest point of its last `searchSamples`. Returns piece boundaries as sample offsets,
 * starting at 0 and ending at `samples.length`.
 */
export function splitAtPauses(
  samples: Float32Array,
  maxSamples = 30 * RATE_HZ - RATE_HZ / 10,
  searchSamples = 10 * RATE_HZ,
): number[] {
  const bounds = [0];
  let start = 0;
  while (samples.length - start > maxSamples) {
    const end = start + maxSamples;
    const cut = quietestPoint(samples, Math.max(start + 1, end - searchSamples), end);
    bounds.push(cut);
    start = cut;
  }
  bounds.push(samples.length);
  return bounds;
}
