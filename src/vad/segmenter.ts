/**
 * Turns per-window speech probabilities into speech segments. Pure: no model, no timers; feed it
 * windows in order and it returns the events they cause.
 *
 * - A window at or above `activationThreshold` opens a candidate. It is confirmed ('speech-start')
 *   once its windows at or above `deactivationThreshold` add up to `minSpeechMs`; `minSilenceMs`
 *   of silence before that drops it without events (a burst shorter than `minSpeechMs`).
 * - In speech, windows below `deactivationThreshold` count as silence; `minSilenceMs` of it in a
 *   row ends the segment. Windows back at or above it reset the count (hysteresis).
 * - `startMs` = candidate start - `preSpeechPadMs`, clamped at 0 and at the previous segment's
 *   end (audio is never in two segments).
 * - `endMs` = end of the last window at or above `deactivationThreshold` + `postSpeechPadMs`
 *   (default 100 ms), at most the end of the window that ended the segment. `flush` ends an open
 *   segment at the end of all audio given so far instead.
 * - Times are sample counts / 16, so `audio.length === (endMs - startMs) * 16` holds exactly.
 */
import type { VadEvent, VadOptions } from './types.js';

/** Samples per ms at 16 kHz. */
const SAMPLES_PER_MS = 16;

/** Segmenter settings: `VadOptions` plus the trailing pad. */
export interface SegmenterOptions extends VadOptions {
  /** Audio kept after the last speech window, in ms (default 100). */
  postSpeechPadMs?: number;
}

/** Defaults of `config/schema.ts` `vad.*`. */
export const DEFAULT_VAD_OPTIONS: Readonly<Required<SegmenterOptions>> = Object.freeze({
  activationThreshold: 0.5,
  deactivationThreshold: 0.35,
  minSpeechMs: 250,
  minSilenceMs: 550,
  preSpeechPadMs: 300,
  postSpeechPadMs: 100,
});

type Phase = 'silence' | 'pending' | 'speech';

export class Segmenter {
  private readonly opts: Required<SegmenterOptions>;
  private phase: Phase = 'silence';
  /** Audio kept for padding and the open segment; `history[0]` is sample `historyStart`. */
  private history = new Float32Array(16_384);
  private historyLength = 0;
  private historyStart = 0;
  /** Samples given so far through `push`. */
  private positionSamples = 0;
  private candidateStart = 0;
  private segmentStart = 0;
  private lastSpeechEnd = 0;
  private silenceSamples = 0;
  /** Samples of windows at or above the deactivation threshold since the candidate opened. */
  private voicedSamples = 0;
  private previousSegmentEnd = 0;

  constructor(options: Partial<SegmenterOptions> = {}) {
    this.opts = { ...DEFAULT_VAD_OPTIONS, ...withoutUndefined(options) };
  }

  /** End of the audio given so far, in ms. */
  get positionMs(): number {
    return this.positionSamples / SAMPLES_PER_MS;
  }

  /** True while a confirmed segment is open. */
  get inSpeech(): boolean {
    return this.phase === 'speech';
  }

  /** Takes the next window (any length) and its speech probability. */
  push(window: Float32Array, probability: number): VadEvent[] {
    const windowStart = this.positionSamples;
    const windowEnd = windowStart + window.length;
    this.append(window);
    this.positionSamples = windowEnd;
    const endMs = windowEnd / SAMPLES_PER_MS;
    const events: VadEvent[] = [{ type: 'probability', endMs, probability }];
    const { activationThreshold, deactivationThreshold } = this.opts;

    if (this.phase === 'silence') {
      if (probability >= activationThreshold) {
        this.phase = 'pending';
        this.candidateStart = windowStart;
        this.lastSpeechEnd = windowEnd;
        this.voicedSamples = window.length;
        this.silenceSamples = 0;
      }
    } else if (this.phase === 'pending') {
      if (probability >= deactivationThreshold) {
        this.lastSpeechEnd = windowEnd;
        this.voicedSamples += window.length;
        this.silenceSamples = 0;
      } else {
        this.silenceSamples += window.length;
        if (this.silenceSamples >= this.opts.minSilenceMs * SAMPLES_PER_MS) this.phase = 'silence';
      }
    } else {
      events.push({ type: 'speech-audio', audio: window.slice(), endMs });
      if (probability >= deactivationThreshold) {
        this.lastSpeechEnd = windowEnd;
        this.silenceSamples = 0;
      } else {
        this.silenceSamples += window.length;
        if (this.silenceSamples >= this.opts.minSilenceMs * SAMPLES_PER_MS) {
          const padded = this.lastSpeechEnd + this.opts.postSpeechPadMs * SAMPLES_PER_MS;
          events.push(this.endSegment(Math.min(padded, windowEnd)));
        }
      }
    }

    if (this.phase === 'pending' && this.voicedSamples >= this.opts.minSpeechMs * SAMPLES_PER_MS) {
      events.push(this.startSegment(windowEnd));
    }
    this.trim();
    return events;
  }

  /**
   * Ends an open segment at the end of the audio given so far plus `tail` (samples not yet
   * windowed; they are not kept, the caller passes them again in a later window). A candidate not
   * yet confirmed is dropped, as it is shorter than `minSpeechMs`.
   */
  flush(tail: Float32Array = new Float32Array(0)): VadEvent[] {
    if (this.phase === 'pending') this.phase = 'silence';
    if (this.phase !== 'speech') return [];

    const events: VadEvent[] = [];
    const endSample = this.positionSamples + tail.length;
    if (tail.length > 0) {
      events.push({ type: 'speech-audio', audio: tail.slice(), endMs: endSample / SAMPLES_PER_MS });
    }
    const audio = new Float32Array(endSample - this.segmentStart);
    audio.set(this.slice(this.segmentStart, this.positionSamples));
    audio.set(tail, this.positionSamples - this.segmentStart);
    this.phase = 'silence';
    this.previousSegmentEnd = endSample;
    events.push({
      type: 'speech-end',
      startMs: this.segmentStart / SAMPLES_PER_MS,
      endMs: endSample / SAMPLES_PER_MS,
      audio,
    });
    return events;
  }

  private startSegment(now: number): VadEvent {
    const padded = this.candidateStart - this.opts.preSpeechPadMs * SAMPLES_PER_MS;
    this.segmentStart = Math.max(0, padded, this.previousSegmentEnd, this.historyStart);
    this.phase = 'speech';
    this.silenceSamples = 0;
    return {
      type: 'speech-start',
      startMs: this.segmentStart / SAMPLES_PER_MS,
      audio: this.slice(this.segmentStart, now),
    };
  }

  private endSegment(endSample: number): VadEvent {
    this.phase = 'silence';
    this.previousSegmentEnd = endSample;
    return {
      type: 'speech-end',
      startMs: this.segmentStart / SAMPLES_PER_MS,
      endMs: endSample / SAMPLES_PER_MS,
      audio: this.slice(this.segmentStart, endSample),
    };
  }

  /** Copy of samples [from, to) of the stream; both must lie in the history. */
  private slice(from: number, to: number): Float32Array {
    return this.history.slice(from - this.historyStart, to - this.historyStart);
  }

  private append(window: Float32Array): void {
    if (this.historyLength + window.length > this.history.length) {
      const needed = this.historyLength + window.length;
      const grown = new Float32Array(Math.max(this.history.length * 2, needed));
      grown.set(this.history.subarray(0, this.historyLength));
      this.history = grown;
    }
    this.history.set(window, this.historyLength);
    this.historyLength += window.length;
  }

  /** Drops history no segment can reach any more. */
  private trim(): void {
    const pad = this.opts.preSpeechPadMs * SAMPLES_PER_MS;
    let keepFrom: number;
    if (this.phase === 'speech') keepFrom = this.segmentStart;
    else if (this.phase === 'pending') keepFrom = this.candidateStart - pad;
    else keepFrom = this.positionSamples - pad;
    const drop = keepFrom - this.historyStart;
    // Compact only when a good share can go, so the copy stays amortised.
    if (drop <= 0 || drop < this.historyLength / 2) return;
    this.history.copyWithin(0, drop, this.historyLength);
    this.historyLength -= drop;
    this.historyStart += drop;
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  const defined = Object.entries(options).filter(([, v]) => v !== undefined);
  return Object.fromEntries(defined) as Partial<T>;
}
