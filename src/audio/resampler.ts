/**
 * Band-limited sample-rate conversion: a Kaiser-windowed sinc, evaluated as a polyphase filter
 * bank for the rational ratio `toHz / fromHz`. The streaming `Resampler` carries its input
 * history across chunks, so pushing audio in pieces gives exactly the samples of one call on the
 * whole signal (`push` then `flush`).
 *
 * Output sample `n` sits at input time `n * fromHz / toHz`: no delay is added to the signal, but
 * `push` holds back the last few input samples (half the filter length) until the samples after
 * them arrive or `flush` pads zeros.
 */

/**
 * Filter design. With the defaults, relative to the lower Nyquist frequency: -0.01 dB at 0.125
 * (1 kHz at 16 kHz), -0.4 dB at 0.75, -4 dB at 0.875, and below -60 dB from 1.125 up.
 */
export interface ResamplerOptions {
  /** Zero crossings of the sinc on each side, at the lower of the two rates. Default 8. */
  zeroCrossings?: number;
  /** Cutoff as a share of the lower Nyquist frequency. Default 0.9. */
  rolloff?: number;
  /** Kaiser window beta. Default 6.5. */
  kaiserBeta?: number;
}

/** Phase tables larger than this quantise the fractional position (ratios like 44101:16000). */
const MAX_PHASES = 1024;

interface FilterBank {
  /** Phases x taps coefficients, phase-major. */
  coefficients: Float32Array;
  phases: number;
  taps: number;
  /** Input samples before the output position that the first tap reaches (taps / 2 - 1). */
  before: number;
}

const bankCache = new Map<string, FilterBank>();

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function designBank(up: number, down: number, options: Required<ResamplerOptions>): FilterBank {
  const key = `${up}:${down}:${options.zeroCrossings}:${options.rolloff}:${options.kaiserBeta}`;
  const cached = bankCache.get(key);
  if (cached) return cached;

  // Cutoff in cycles per input sample; the kernel is evaluated at distances in input samples.
  const cutoff = (options.rolloff * Math.min(1, up / down)) / 2;
  const halfWidth = Math.ceil(options.zeroCrossings / (2 * cutoff));
  const taps = 2 * halfWidth;
  const phases = Math.min(up, MAX_PHASES);
  const coefficients = new Float32Array(phases * taps);
  const i0Beta = besselI0(options.kaiserBeta);

  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const d = frac + halfWidth - 1 - j;
      const r = d / halfWidth;
      if (Math.abs(r) >= 1) continue;

      const x = 2 * cutoff * d;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const window = besselI0(options.kaiserBeta * Math.sqrt(1 - r * r)) / i0Beta;
      const h = 2 * cutoff * sinc * window;
      coefficients[p * taps + j] = h;
      sum += h;
    }
    // Unity gain at DC for every phase, so a constant stays constant.
    for (let j = 0; j < taps; j++) coefficients[p * taps + j]! /= sum;
  }

  const bank = { coefficients, phases, taps, before: halfWidth - 1 };
  bankCache.set(key, bank);
  return bank;
}

/** Streaming converter from one fixed rate to another. Not thread-safe; one per stream. */
export class Resampler {
  readonly fromHz: number;
  readonly toHz: number;
  private readonly up: number;
  private readonly down: number;
  private readonly bank: FilterBank | null;
  /** Input history; `buf[0]` is input sample `bufStart` (negative before the first sample). */
  private buf: Float32Array;
  private bufLen = 0;
  private bufStart = 0;
  /** Position of the next output: input sample `ipos` plus `phase / up`. */
  private ipos = 0;
  private phase = 0;
  private inputCount = 0;
  private outputCount = 0;

  constructor(fromHz: number, toHz: number, options: ResamplerOptions = {}) {
    if (!(Number.isInteger(fromHz) && fromHz > 0 && Number.isInteger(toHz) && toHz > 0)) {
      throw new RangeError(`sample rates must be positive integers, got ${fromHz} -> ${toHz}`);
    }
    this.fromHz = fromHz;
    this.toHz = toHz;
    const g = gcd(fromHz, toHz);
    this.up = toHz / g;
    this.down = fromHz / g;
    this.bank =
      fromHz === toHz
        ? null
        : designBank(this.up, this.down, {
            zeroCrossings: options.zeroCrossings ?? 8,
            rolloff: options.rolloff ?? 0.9,
            kaiserBeta: options.kaiserBeta ?? 6.5,
          });
    this.buf = new Float32Array(this.bank ? this.bank.taps + 4096 : 0);
    this.reset();
  }

  /** Input samples the output lags behind until `flush` (half the filter length). */
  get pendingInputSamples(): number {
    return this.bank ? Math.max(0, this.inputCount - this.ipos) : 0;
  }

  /** Forgets all history, as if newly built. */
  reset(): void {
    this.ipos = 0;
    this.phase = 0;
    this.inputCount = 0;
    this.outputCount = 0;
    if (!this.bank) return;

    // Zeros before the first sample, so the first outputs see a silent past.
    this.bufStart = -this.bank.before;
    this.bufLen = this.bank.before;
    this.buf.fill(0, 0, this.bufLen);
  }

  /** Converts the next chunk; returns the output samples that are complete so far. */
  push(input: Float32Array): Float32Array {
    this.inputCount += input.length;
    if (!this.bank) {
      this.outputCount += input.length;
      return input.slice();
    }

    this.append(input);
    return this.drain(Infinity);
  }

  /** Pads the end with silence and returns the rest of the output; then resets. */
  flush(): Float32Array {
    if (!this.bank) {
      this.reset();
      return new Float32Array(0);
    }

    const total = Math.ceil((this.inputCount * this.up) / this.down);
    this.append(new Float32Array(this.bank.taps + 1));
    const out = this.drain(total - this.outputCount);
    this.reset();
    return out;
  }

  private append(input: Float32Array): void {
    const bank = this.bank!;
    // Drop history the next output no longer needs.
    const keepFrom = this.ipos - bank.before;
    const drop = Math.max(0, Math.min(this.bufLen, keepFrom - this.bufStart));
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    if (this.bufLen + input.length > this.buf.length) {
      const bigger = new Float32Array(Math.max(this.bufLen + input.length, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.bufLen));
      this.buf = bigger;
    }
    this.buf.set(input, this.bufLen);
    this.bufLen += input.length;
  }

  private drain(maxOut: number): Float32Array {
    const { coefficients, phases, taps, before } = this.bank!;
    const { up, down, buf } = this;
    const available = this.bufStart + this.bufLen;
    // An output at ipos needs input up to ipos + taps - before - 1.
    const lastStart = available - taps + before - (phases === up ? 0 : 1);
    const stepInt = Math.floor(down / up);
    const stepFrac = down % up;

    let count = 0;
    for (let ip = this.ipos, ph = this.phase; ip <= lastStart && count < maxOut; count++) {
      ph += stepFrac;
      ip += stepInt;
      if (ph >= up) {
        ph -= up;
        ip++;
      }
    }

    const out = new Float32Array(count);
    let ipos = this.ipos;
    let phase = this.phase;
    const scale = phases / up;
    for (let n = 0; n < count; n++) {
      let p = phases === up ? phase : Math.round(phase * scale);
      let base = ipos - before - this.bufStart;
      if (p === phases) {
        p = 0;
        base++;
      }
      const c0 = p * taps;
      let acc = 0;
      for (let j = 0; j < taps; j++) acc += buf[base + j]! * coefficients[c0 + j]!;
      out[n] = acc;

      phase += stepFrac;
      ipos += stepInt;
      if (phase >= up) {
        phase -= up;
        ipos++;
      }
    }

    this.ipos = ipos;
    this.phase = phase;
    this.outputCount += count;
    return out;
  }
}

/** Converts a whole signal at once; `ceil(length * toHz / fromHz)` samples come back. */
export function resample(
  samples: Float32Array,
  fromHz: number,
  toHz: number,
  options?: ResamplerOptions,
): Float32Array {
  if (fromHz === toHz) return samples.slice();

  const resampler = new Resampler(fromHz, toHz, options);
  const head = resampler.push(samples);
  const tail = resampler.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
