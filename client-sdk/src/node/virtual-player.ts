/**
 * A player without a speaker, for Node: it drains a jitter buffer at real time as a sound card
 * would, so the server gets true `playback.position` reports (barge-in knows what was heard) and
 * the client can measure latency at the ear.
 */
import type { JitterBuffer, PlayoutFrame } from '../jitter-buffer.js';
import type { UndertoneClient } from '../undertone-client.js';

export interface VirtualPlayerOptions {
  /** Tick of the output clock, in ms. Default 20. */
  tickMs?: number;
  /** How often the playback position of the playing response is sent, in ms. Default 250. */
  reportIntervalMs?: number;
  /** Called with each frame as it starts to play. */
  onFrame?: (frame: PlayoutFrame, startedAtMs: number) => void;
}

export class VirtualPlayer {
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Client clock when the output is free again, in ms. */
  private busyUntilMs = 0;
  private lastReportMs = 0;
  private readonly played = new Map<string, number>();
  private readonly tickMs: number;
  private readonly reportIntervalMs: number;

  constructor(
    private readonly client: UndertoneClient,
    private readonly buffer: JitterBuffer,
    private readonly options: VirtualPlayerOptions = {},
  ) {
    this.tickMs = options.tickMs ?? 20;
    this.reportIntervalMs = options.reportIntervalMs ?? 250;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.reportAll();
  }

  /** True while audio is queued or still playing. */
  get busy(): boolean {
    return this.buffer.queuedMs() > 0 || this.busyUntilMs > this.client.now();
  }

  private tick(): void {
    const now = this.client.now();
    while (this.busyUntilMs < now + this.tickMs) {
      const frame = this.buffer.pop();
      if (!frame) break;

      const startAt = Math.max(this.busyUntilMs, now);
      this.busyUntilMs = startAt + frame.durationMs;
      if (frame.first) this.client.markFirstPlayed(frame.responseId, startAt);
      this.played.set(frame.responseId, this.buffer.playedMs(frame.responseId));
      this.options.onFrame?.(frame, startAt);
    }

    if (now - this.lastReportMs >= this.reportIntervalMs) this.reportAll();
  }

  private reportAll(): void {
    this.lastReportMs = this.client.now();
    for (const [responseId, playedMs] of this.played)
      this.client.sendPlaybackPosition(responseId, playedMs);
    this.played.clear();
  }
}
