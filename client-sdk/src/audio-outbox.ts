/**
 * Caller audio on its way out. Each frame is stamped when it is captured: a sequence number (+1 per
 * frame) and its media time (the session audio clock, ms since the first frame). While the socket
 * is down frames wait here, bounded by `maxBufferedMs` (the oldest are dropped, and the gap shows
 * in the sequence numbers, so the server counts it as loss instead of shifting its clock). After a
 * resume the backlog is sent at a bounded rate so the server's queue is not flooded.
 */
import { FRAME_KIND, encodeFrame } from '../../src/protocol/index.js';

export interface OutboundFrame {
  seq: number;
  mediaTimeMs: number;
  durationMs: number;
  /** Client clock when the frame was captured, in ms. */
  captureTimeMs: number;
  payload: Uint8Array;
}

export interface AudioOutboxOptions {
  /** Most audio held while disconnected, in ms. Default 10000. */
  maxBufferedMs?: number;
  /** Backlog frames sent per `flushIntervalMs` after a reconnect. Default 10 (5x real time at 20 ms). */
  flushFramesPerTick?: number;
  flushIntervalMs?: number;
}

export class AudioOutbox {
  private seq = 0;
  private mediaTimeMs = 0;
  private backlog: OutboundFrame[] = [];
  private backlogMs = 0;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly maxBufferedMs: number;
  private readonly flushFramesPerTick: number;
  private readonly flushIntervalMs: number;
  /** Frames dropped because the backlog was full. */
  droppedFrames = 0;

  /** @param send writes one binary frame; returns false when the socket cannot take it now. */
  constructor(
    private readonly send: (frame: Uint8Array) => boolean,
    options: AudioOutboxOptions = {},
  ) {
    this.maxBufferedMs = options.maxBufferedMs ?? 10_000;
    this.flushFramesPerTick = options.flushFramesPerTick ?? 10;
    this.flushIntervalMs = options.flushIntervalMs ?? 20;
  }

  /** Stamps a frame and sends it, or queues it when `online` is false or a backlog is pending. */
  push(
    payload: Uint8Array,
    durationMs: number,
    captureTimeMs: number,
    online: boolean,
  ): OutboundFrame {
    const frame = {
      seq: this.seq,
      mediaTimeMs: this.mediaTimeMs,
      durationMs,
      captureTimeMs,
      payload,
    };
    this.seq = (this.seq + 1) >>> 0;
    this.mediaTimeMs += durationMs;

    if (online && this.backlog.length === 0 && this.send(this.encode(frame))) return frame;

    this.backlog.push(frame);
    this.backlogMs += durationMs;
    while (this.backlogMs > this.maxBufferedMs && this.backlog.length > 1) {
      const dropped = this.backlog.shift()!;
      this.backlogMs -= dropped.durationMs;
      this.droppedFrames++;
    }
    return frame;
  }

  /** Starts sending the backlog (call when the session is live again). */
  flush(): void {
    if (this.flushTimer || this.backlog.length === 0) return;

    const tick = () => {
      this.flushTimer = undefined;
      for (let i = 0; i < this.flushFramesPerTick && this.backlog.length > 0; i++) {
        if (!this.send(this.encode(this.backlog[0]!))) return;
        this.backlogMs -= this.backlog.shift()!.durationMs;
      }
      if (this.backlog.length > 0) this.flushTimer = setTimeout(tick, this.flushIntervalMs);
    };
    tick();
  }

  /** Stops a running flush (the socket dropped again); the rest stays queued. */
  pause(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /**
   * A new session replaced the old one (resume failed): its clock starts at 0, so the backlog is
   * renumbered from 0 and later frames follow on.
   */
  rebase(): void {
    const base = this.backlog[0];
    if (!base) {
      this.seq = 0;
      this.mediaTimeMs = 0;
      return;
    }
    const { seq, mediaTimeMs } = base;
    for (const f of this.backlog) {
      f.seq = (f.seq - seq) >>> 0;
      f.mediaTimeMs -= mediaTimeMs;
    }
    this.seq = (this.seq - seq) >>> 0;
    this.mediaTimeMs -= mediaTimeMs;
  }

  /** Drops the backlog (the session ended). */
  discard(): void {
    this.pause();
    this.backlog = [];
    this.backlogMs = 0;
  }

  /** The frames waiting, oldest first. */
  pending(): readonly OutboundFrame[] {
    return this.backlog;
  }

  get pendingFrames(): number {
    return this.backlog.length;
  }

  get pendingMs(): number {
    return this.backlogMs;
  }

  /** Media time of the next frame, in ms: the caller audio sent or queued so far. */
  get nextMediaTimeMs(): number {
    return this.mediaTimeMs;
  }

  private encode(f: OutboundFrame): Uint8Array {
    return encodeFrame(
      { kind: FRAME_KIND.callerAudio, stream: 0, seq: f.seq, timestampMs: f.mediaTimeMs },
      f.payload,
    );
  }
}
