/**
 * A small radix-2 FFT of real input, for spectral features of one analysis frame: the N real
 * samples are packed as N/2 complex ones, transformed in place, then split into the N/2 + 1 bins
 * of the real spectrum. Tables and work buffers are allocated once per instance.
 */
export class RealFft {
  /** Transform length (a power of two, at least 4). */
  readonly size: number;
  private readonly half: number;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly bitReverse: Uint32Array;

  constructor(size: number) {
    if (size < 4 || (size & (size - 1)) !== 0)
      throw new RangeError(`FFT size ${size} is not a power of two >= 4`);
    this.size = size;
    this.half = size / 2;
    this.re = new Float64Array(this.half);
    this.im = new Float64Array(this.half);
    // Twiddles of the full size: the half-size FFT uses every other one, the split all of them.
    this.cos = Float64Array.from({ length: this.half }, (_, k) =>
      Math.cos((2 * Math.PI * k) / size),
    );
    this.sin = Float64Array.from(
      { length: this.half },
      (_, k) => -Math.sin((2 * Math.PI * k) / size),
    );
    const bits = Math.log2(this.half);
    this.bitReverse = Uint32Array.from({ length: this.half }, (_, i) => {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      return r;
    });
  }

  /**
   * Magnitudes |X[k]| for k = 0..size/2 of `input` (read from `offset`, zero beyond its end).
   * @param out array of at least size/2 + 1 values, overwritten
   */
  magnitudes(input: ArrayLike<number>, out: Float32Array | Float64Array, offset = 0): void {
    const { half, re, im, cos, sin, bitReverse } = this;
    const available = Math.max(0, input.length - offset);
    for (let i = 0; i < half; i++) {
      const j = bitReverse[i]!;
      const a = 2 * i;
      re[j] = a < available ? input[offset + a]! : 0;
      im[j] = a + 1 < available ? input[offset + a + 1]! : 0;
    }

    for (let len = 2; len <= half; len <<= 1) {
      const step = this.size / len;
      const mid = len >> 1;
      for (let start = 0; start < half; start += len) {
        for (let k = 0; k < mid; k++) {
          const wr = cos[k * step]!;
          const wi = sin[k * step]!;
          const p = start + k;
          const q = p + mid;
          const tr = re[q]! * wr - im[q]! * wi;
          const ti = re[q]! * wi + im[q]! * wr;
          re[q] = re[p]! - tr;
          im[q] = im[p]! - ti;
          re[p] = re[p]! + tr;
          im[p] = im[p]! + ti;
        }
      }
    }

    // Split: X[k] = (Z[k] + conj Z[N/2-k]) / 2 + W^k (Z[k] - conj Z[N/2-k]) / 2i.
    out[0] = Math.abs(re[0]! + im[0]!);
    out[half] = Math.abs(re[0]! - im[0]!);
    for (let k = 1; k < half; k++) {
      const zr = re[k]!;
      const zi = im[k]!;
      const cr = re[half - k]!;
      const ci = -im[half - k]!;
      const er = (zr + cr) / 2;
      const ei = (zi + ci) / 2;
      const or = (zi - ci) / 2;
      const oi = -(zr - cr) / 2;
      const wr = cos[k]!;
      const wi = sin[k]!;
      const xr = er + or * wr - oi * wi;
      const xi = ei + or * wi + oi * wr;
      out[k] = Math.sqrt(xr * xr + xi * xi);
    }
  }
}
