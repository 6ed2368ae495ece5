/**
 * The session's clocks and counters: session audio time (ms of decoded track audio), the wall
 * time of inbound audio (to place the echo reference on the caller's timeline) and the totals of
 * `session.ended`.
 */
import type { AudioInputStats } from '../audio/audio-input.js';
import type { SessionEndedEvent } from '../protocol/messages.js';

/** How far the inbound position is extrapolated past the last push, in ms. */
const MAX_EXTRAPOLATION_MS = 100;

export class SessionStats {
  private samples = 0;
  private inboundSamples = 0;
  private lastInboundWallMs: number | undefined;
  private readonly startedWallMs = performance.now();

  /** Session audio time: ms of decoded audio of track 0. */
  get audioMs(): number {
    return this.samples / 16;
  }

  addAudio(samples: number): void {
    this.samples += samples;
  }

  /** Track 0 received `samples` more samples now. */
  markInbound(samples: number): void {
    this.inboundSamples += samples;
    this.lastInboundWallMs = performance.now();
  }

  /** Inbound sample position of track 0 at wall time `wallMs` (extrapolated a little). */
  inboundPositionAt(wallMs: number): number {
    if (this.lastInboundWallMs === undefined) return this.inboundSamples;
    const sinceMs = wallMs - this.lastInboundWallMs;
    const aheadMs = Math.min(MAX_EXTRAPOLATION_MS, Math.max(-MAX_EXTRAPOLATION_MS, sinceMs));
    return Math.max(0, this.inboundSamples + Math.round(aheadMs * 16));
  }

  snapshot(input: Readonly<AudioInputStats>): SessionEndedEvent['stats'] {
    return {
      frames: input.frames,
      bytes: input.bytes,
      lostFrames: input.lostFrames,
      reorderedFrames: input.reorderedFrames,
      audioMs: Math.round(this.audioMs),
      wallMs: Math.round(performance.now() - this.startedWallMs),
    };
  }
}
