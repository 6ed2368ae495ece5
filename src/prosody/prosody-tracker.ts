/**
 * Streaming prosody of one track: push 16 kHz samples in chunks of any size, get a
 * `ProsodyFrame` per hop, stamped with the session time of the frame's centre.
 */
import type { ProsodyFrame } from '../protocol/messages.js';
import { FrameAnalyzer, type ProsodyOptions } from './frame-features.js';

export interface ProsodyTrackerOptions extends ProsodyOptions {
  /** Session time of the first sample pushed, in ms. Default 0. */
  startTimeMs?: number;
}

export class ProsodyTracker {
  readonly hopSamples: number;
  readonly frameSamples: number;
  private readonly analyzer: FrameAnalyzer;
  private readonly sampleRateHz: number;
  private readonly startTimeMs: number;
  private buf: Float32Array;
  private bufLen = 0;
  /** Index (from the first sample pushed) of `buf[0]`. */
  private bufStart = 0;
  /** Index of the first sample of the next frame. */
  private nextFrame = 0;

  constructor(options: ProsodyTrackerOptions = {}) {
    this.analyzer = new FrameAnalyzer(options);
    const { sampleRateHz, hopMs } = this.analyzer.options;
    this.sampleRateHz = sampleRateHz;
    this.startTimeMs = options.startTimeMs ?? 0;
    this.frameSamples = this.analyzer.frameSamples;
    this.hopSamples = Math.max(1, Math.round((sampleRateHz * hopMs) / 1000));
    this.buf = new Float32Array(this.frameSamples * 4);
  }

  /** Session ms of everything pushed so far. */
  get positionMs(): number {
    return this.startTimeMs + ((this.bufStart + this.bufLen) * 1000) / this.sampleRateHz;
  }

  /**
   * Feeds samples at the tracker's rate; returns the frames completed by them. NaN becomes 0
   * and everything else (Inf included) is clamped to [-1, 1], so every feature stays finite.
   */
  push(samples: Float32Array): ProsodyFrame[] {
    this.append(samples);
    const frames: ProsodyFrame[] = [];
    const half = this.frameSamples / 2;
    while (this.nextFrame + this.frameSamples <= this.bufStart + this.bufLen) {
      const timeMs = this.startTimeMs + ((this.nextFrame + half) * 1000) / this.sampleRateHz;
      frames.push(this.analyzer.analyze(this.buf, this.nextFrame - this.bufStart, timeMs));
      this.nextFrame += this.hopSamples;
    }
    return frames;
  }

  /** Forgets buffered audio; time goes on from where it was. */
  reset(): void {
    this.bufStart += this.bufLen;
    this.bufLen = 0;
    this.nextFrame = this.bufStart;
  }

  private append(samples: Float32Array): void {
    const drop = Math.max(0, Math.min(this.bufLen, this.nextFrame - this.bufStart));
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    if (this.bufLen + samples.length > this.buf.length) {
      const bigger = new Float32Array(Math.max(this.bufLen + samples.length, this.buf.length * 2));
      bigger.set(this.buf.subarray(0, this.bufLen));
      this.buf = bigger;
    }

    const buf = this.buf;
    let at = this.bufLen;
    for (let i = 0; i < samples.length; i++, at++) {
      const s = samples[i]!;
      // NaN fails every comparison and lands on 0.
      buf[at] = s >= -1 ? (s <= 1 ? s : 1) : s < -1 ? -1 : 0;
    }
    this.bufLen = at;
  }
}
