/**
 * Paces one response's encoded agent audio to the caller: frames leave no more than
 * `playbackLeadMs` ahead of real time, so a barge-in has little queued audio to take back.
 *
 * It models the client's player: a frame starts playing when it arrives or when the previous one
 * ends, whichever is later. From that model (or from the client's own `playback.position`
 * reports, when it sends them) it knows how much of the response was heard at any moment, and
 * where on the caller's timeline each frame was due to play (the echo guard's reference).
 */
import type { AgentAudioFrame } from './types.js';

export interface PlayoutFrame {
  payload: Uint8Array;
  /** The frame's audio at 16 kHz, for the echo reference (may be empty). */
  reference16k: Float32Array;
}

export interface AgentSpeakerOptions {
  responseId: string;
  stream: number;
  frameMs: number;
  playbackLeadMs: number;
  /** Sends one frame to the caller. */
  send: (frame: AgentAudioFrame) => void;
  /**
   * Called when a frame leaves, with the wall time (ms) at which it is due to start playing.
   * `contiguous`: it plays right after the previous frame, with no gap (same playout run).
   */
  onPlayout?: (frame: PlayoutFrame, playStartWallMs: number, contiguous: boolean) => void;
  now?: () => number;
}

interface SentFrame {
  playStartMs: number;
  mediaStartMs: number;
}

export class AgentSpeaker {
  private readonly queue: PlayoutFrame[] = [];
  private readonly sent: SentFrame[] = [];
  private readonly now: () => number;
  private readonly leadMs: number;
  private timer: NodeJS.Timeout | undefined;
  private scheduledEndMs = 0;
  private seq = 0;
  private inputEnded = false;
  private stopped = false;
  private reported: { playedMs: number; atMs: number } | undefined;
  private finishWaiters: Array<() => void> = [];
  /** Wall time of the first frame sent, ms. */
  firstFrameWallMs: number | undefined;

  constructor(private readonly options: AgentSpeakerOptions) {
    this.now = options.now ?? (() => performance.now());
    // At least one frame may always be in flight, or nothing would ever leave.
    this.leadMs = Math.max(options.playbackLeadMs, options.frameMs);
  }

  /** Audio sent so far, in ms of response media. */
  get sentMs(): number {
    return this.seq * this.options.frameMs;
  }

  get queuedFrames(): number {
    return this.queue.length;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  enqueue(frame: PlayoutFrame): void {
    if (this.stopped) return;
    this.queue.push(frame);
    this.pump();
  }

  /** No more frames will come; `finished` resolves once the queue has played out. */
  endInput(): void {
    this.inputEnded = true;
    this.pump();
  }

  /** Resolves when every frame was sent and, by the player model, played. */
  finished(): Promise<void> {
    return new Promise((resolve) => {
      this.finishWaiters.push(resolve);
      this.pump();
    });
  }

  /** The client's report of how much it played, in ms of this response. */
  reportPlayed(playedMs: number): void {
    this.reported = { playedMs, atMs: this.now() };
  }

  /** Ms of the response the caller has heard by now. */
  playedMs(): number {
    const now = this.now();
    if (this.reported) {
      const moving = this.reported.playedMs + Math.max(0, now - this.reported.atMs);
      return Math.min(this.sentMs, Math.max(0, moving));
    }
    let played = 0;
    for (const frame of this.sent) {
      if (frame.playStartMs > now) break;
      played = frame.mediaStartMs + Math.min(this.options.frameMs, now - frame.playStartMs);
    }
    return played;
  }

  /** Stops at once: nothing queued is sent after this returns. Returns the ms heard. */
  stop(): number {
    const played = this.playedMs();
    this.stopped = true;
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.releaseWaiters();
    return played;
  }

  private pump(): void {
    if (this.stopped) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const { frameMs } = this.options;
    let now = this.now();
    while (this.queue.length > 0) {
      const ahead = Math.max(0, this.scheduledEndMs - now);
      if (ahead + frameMs > this.leadMs) break;
      this.sendOne(this.queue.shift()!, now);
      if (this.stopped) return;
      now = this.now();
    }

    if (this.queue.length > 0) {
      const wait = this.scheduledEndMs + frameMs - this.leadMs - now;
      this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(wait)));
    } else if (this.inputEnded && this.finishWaiters.length > 0) {
      const wait = this.scheduledEndMs - now;
      if (wait <= 0) this.releaseWaiters();
      else this.timer = setTimeout(() => this.pump(), Math.ceil(wait));
    }
  }

  private sendOne(frame: PlayoutFrame, now: number): void {
    const { frameMs, responseId, stream } = this.options;
    const contiguous = this.seq > 0 && this.scheduledEndMs >= now;
    const playStartMs = Math.max(now, this.scheduledEndMs);
    const mediaStartMs = this.seq * frameMs;
    this.scheduledEndMs = playStartMs + frameMs;
    this.sent.push({ playStartMs, mediaStartMs });
    this.firstFrameWallMs ??= now;
    const seq = this.seq++;

    this.options.onPlayout?.(frame, playStartMs, contiguous);
    const { payload } = frame;
    const timestampMs = mediaStartMs;
    this.options.send({ responseId, stream, seq, timestampMs, durationMs: frameMs, payload });
  }

  private releaseWaiters(): void {
    const waiters = this.finishWaiters;
    this.finishWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
