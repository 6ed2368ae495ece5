/**
 * The playback queue of agent audio, keyed by response. Frames of a response are put back in
 * sequence order, playout of a response waits until `targetMs` of audio is queued (or the first
 * frame has waited `targetMs`) so network jitter does not starve the speaker, and `clear()` drops a
 * response at once when the server cancels it (barge-in).
 *
 * The buffer holds decoded samples and knows nothing about output devices: a player calls `pop()`
 * each time its output needs the next frame, at the moment that frame starts to play. The
 * buffer then counts the frame as played, which is what `playedMs()` reports and what the client
 * sends as `playback.position`.
 */

export interface JitterBufferOptions {
  /** Audio queued before playout of a response starts (and restarts after an underrun), in ms. Default 60. */
  targetMs?: number;
  /** Most audio queued over all responses; frames beyond it are dropped, in ms. Default 60000. */
  maxQueuedMs?: number;
  /** Clock in ms; defaults to `performance.now()`. */
  now?: () => number;
}

export interface PlayoutFrame {
  responseId: string;
  seq: number;
  samples: Float32Array;
  sampleRateHz: number;
  durationMs: number;
  /** True for the first frame played of its response. */
  first: boolean;
}

export type PushResult = 'queued' | 'late' | 'duplicate' | 'cleared' | 'overflow';

export interface JitterStats {
  /** Frames that arrived after a later frame of their response had already played. */
  lateFrames: number;
  duplicateFrames: number;
  /** Sequence numbers given up on (lost or too late) when playout moved past them. */
  skippedFrames: number;
  /** Times a playing response ran dry before its end. */
  underruns: number;
  /** Frames dropped by `clear()` or by the `maxQueuedMs` bound. */
  droppedFrames: number;
}

interface QueuedFrame {
  seq: number;
  samples: Float32Array;
  sampleRateHz: number;
  durationMs: number;
}

interface ResponseQueue {
  id: string;
  frames: QueuedFrame[];
  /** Next sequence number to play; undefined before the first frame played. */
  nextSeq: number | undefined;
  playedMs: number;
  ended: boolean;
  finished: boolean;
  /** Waiting for `targetMs` before (re)starting; the time the wait began. */
  primingSinceMs: number | undefined;
  /** When the frame at the head became the first one after a gap in sequence numbers. */
  gapSinceMs: number | undefined;
}

export class JitterBuffer {
  readonly targetMs: number;
  private readonly maxQueuedMs: number;
  private readonly now: () => number;
  private readonly responses = new Map<string, ResponseQueue>();
  /** Responses in the order their first frame arrived; finished ones are removed from the front. */
  private order: ResponseQueue[] = [];
  private totalQueuedMs = 0;
  readonly stats: JitterStats = {
    lateFrames: 0,
    duplicateFrames: 0,
    skippedFrames: 0,
    underruns: 0,
    droppedFrames: 0,
  };

  constructor(options: JitterBufferOptions = {}) {
    this.targetMs = options.targetMs ?? 60;
    this.maxQueuedMs = options.maxQueuedMs ?? 60_000;
    this.now = options.now ?? (() => performance.now());
  }

  /** Queues one decoded frame of agent audio. */
  push(responseId: string, seq: number, samples: Float32Array, sampleRateHz: number): PushResult {
    const queue = this.queueOf(responseId);
    if (queue.finished) return 'cleared';
    if (queue.nextSeq !== undefined && seq < queue.nextSeq) {
      this.stats.lateFrames++;
      return 'late';
    }

    const durationMs = (samples.length / sampleRateHz) * 1000;
    if (this.totalQueuedMs + durationMs > this.maxQueuedMs) {
      this.stats.droppedFrames++;
      return 'overflow';
    }

    let at = queue.frames.length;
    while (at > 0 && queue.frames[at - 1]!.seq > seq) at--;
    if (at > 0 && queue.frames[at - 1]!.seq === seq) {
      this.stats.duplicateFrames++;
      return 'duplicate';
    }

    queue.frames.splice(at, 0, { seq, samples, sampleRateHz, durationMs });
    this.totalQueuedMs += durationMs;
    return 'queued';
  }

  /** Marks a response complete: its queued audio plays out without waiting for more. */
  end(responseId: string): void {
    const queue = this.responses.get(responseId);
    if (queue) queue.ended = true;
  }

  /**
   * Drops a response's queued audio at once, and any of its frames that arrive later.
   * Returns the ms of audio dropped.
   */
  clear(responseId: string): number {
    const queue = this.queueOf(responseId);
    const droppedMs = queue.frames.reduce((sum, f) => sum + f.durationMs, 0);
    this.stats.droppedFrames += queue.frames.length;
    this.totalQueuedMs -= droppedMs;
    queue.frames = [];
    queue.finished = true;
    return droppedMs;
  }

  /** Drops everything queued (the session ended or restarted). */
  clearAll(): void {
    for (const queue of this.order) this.clear(queue.id);
    this.order = [];
  }

  /**
   * The frame to play now, or `undefined` when there is nothing to play yet (priming, underrun,
   * or a missing frame that may still arrive). The returned frame counts as played.
   */
  pop(): PlayoutFrame | undefined {
    const now = this.now();
    const queue = this.current();
    if (!queue) return undefined;

    if (queue.frames.length === 0) {
      if (queue.primingSinceMs === undefined && !queue.ended) {
        this.stats.underruns++;
        queue.primingSinceMs = now;
      }
      return undefined;
    }

    const queuedMs = queue.frames.reduce((sum, f) => sum + f.durationMs, 0);
    const enough = queuedMs >= this.targetMs || queue.ended;
    const waitingSinceMs = queue.primingSinceMs;
    if (waitingSinceMs !== undefined) {
      if (!enough && now - waitingSinceMs < this.targetMs) return undefined;
      queue.primingSinceMs = undefined;
    }

    const head = queue.frames[0]!;
    if (queue.nextSeq !== undefined && head.seq !== queue.nextSeq) {
      // A gap: the missing frame may be late rather than lost. Wait for it while the queue and
      // the wait (priming included) are both under the target; then play on and count the gap.
      queue.gapSinceMs ??= waitingSinceMs ?? now;
      if (!enough && now - queue.gapSinceMs < this.targetMs) return undefined;
      this.stats.skippedFrames += head.seq - queue.nextSeq;
    }
    queue.gapSinceMs = undefined;

    queue.frames.shift();
    this.totalQueuedMs -= head.durationMs;
    const first = queue.nextSeq === undefined;
    queue.nextSeq = head.seq + 1;
    queue.playedMs += head.durationMs;
    return { responseId: queue.id, ...head, first };
  }

  /** Agent audio of a response played so far, in ms. */
  playedMs(responseId: string): number {
    return this.responses.get(responseId)?.playedMs ?? 0;
  }

  /** Audio queued, for one response or for all, in ms. */
  queuedMs(responseId?: string): number {
    if (responseId === undefined) return this.totalQueuedMs;
    return this.responses.get(responseId)?.frames.reduce((sum, f) => sum + f.durationMs, 0) ?? 0;
  }

  /** The response now at the head of the queue, if any. */
  get playingResponseId(): string | undefined {
    return this.current()?.id;
  }

  private queueOf(responseId: string): ResponseQueue {
    let queue = this.responses.get(responseId);
    if (!queue) {
      queue = {
        id: responseId,
        frames: [],
        nextSeq: undefined,
        playedMs: 0,
        ended: false,
        finished: false,
        primingSinceMs: this.now(),
        gapSinceMs: undefined,
      };
      this.responses.set(responseId, queue);
      this.order.push(queue);
      this.pruneIds();
    }
    return queue;
  }

  /** The first unfinished response; a drained one gives way when a later one has audio. */
  private current(): ResponseQueue | undefined {
    while (this.order.length > 0) {
      const head = this.order[0]!;
      const drained = head.frames.length === 0;
      const laterHasAudio = this.order.slice(1).some((q) => !q.finished && q.frames.length > 0);
      if (head.finished || (drained && (head.ended || laterHasAudio))) {
        head.finished = true;
        this.order.shift();
        continue;
      }
      return head;
    }
    return undefined;
  }

  /** Keeps the per-response bookkeeping of finished responses bounded over a long call. */
  private pruneIds(): void {
    if (this.responses.size <= 256) return;
    for (const [id, queue] of this.responses) {
      if (queue.finished && !this.order.includes(queue)) this.responses.delete(id);
      if (this.responses.size <= 128) break;
    }
  }
}
