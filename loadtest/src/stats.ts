/**
 * Samples and their percentiles. A series keeps every value up to `capacity`, then a uniform
 * reservoir sample, so memory stays bounded on long runs while counts, mean and max stay exact.
 */

export interface Summary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export class Series {
  private readonly values: number[] = [];
  private seen = 0;
  private sum = 0;
  private maximum = -Infinity;

  constructor(private readonly capacity = 100_000) {}

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.seen++;
    this.sum += value;
    if (value > this.maximum) this.maximum = value;
    if (this.values.length < this.capacity) {
      this.values.push(value);
      return;
    }
    const slot = Math.floor(Math.random() * this.seen);
    if (slot < this.capacity) this.values[slot] = value;
  }

  /** Adds every value of `other`'s kept sample (for merging callers into a run). */
  merge(other: Series): void {
    for (const v of other.values) this.add(v);
  }

  get count(): number {
    return this.seen;
  }

  summary(): Summary {
    if (this.seen === 0)
      return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null };
    const sorted = [...this.values].sort((a, b) => a - b);
    return {
      count: this.seen,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      p99: percentile(sorted, 0.99),
      max: this.maximum,
      mean: this.sum / this.seen,
    };
  }
}

/** Nearest-rank percentile of an ascending array (`q` in 0..1). */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Counts by key, e.g. errors by code. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  merge(other: Tally): void {
    for (const [k, n] of other.counts) this.add(k, n);
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]));
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
}
