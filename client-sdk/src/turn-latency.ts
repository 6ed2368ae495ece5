/**
 * Latency at the ear: for each turn, the time from the end of the caller's speech to the moment
 * the first agent audio of the reply actually started playing, both on the client's clock.
 *
 * The server reports the end of speech in session audio ms (`vad.speech_stopped.endMs`). The
 * client knows when it captured each frame and at which media time, so it maps that audio time back
 * to its own capture clock. The player says when a response's first frame began to play.
 */

export interface TurnLatency {
  responseId: string;
  /** The user segment the response answers. */
  segmentId: string;
  /** End of the caller's speech, session audio ms. */
  speechEndMs: number;
  /** Client clock at the end of speech (capture time), ms. */
  speechEndAtMs: number;
  /** Client clock when the first agent audio began to play, ms. */
  firstPlayedAtMs: number;
  /** `firstPlayedAtMs - speechEndAtMs`: what the caller waited, in ms. */
  earLatencyMs: number;
}

/** Most capture points kept (one per frame): 15000 frames of 20 ms = 5 minutes. */
const MAX_POINTS = 15_000;
const MAX_PENDING = 64;

export class TurnLatencyTracker {
  /** Pairs (media time, capture time), ascending in media time. */
  private media: number[] = [];
  private capture: number[] = [];
  private readonly speechEnds = new Map<string, { endMs: number; atMs: number }>();
  private readonly replies = new Map<string, string>();
  private readonly reported = new Set<string>();

  /** Notes that the frame starting at `mediaTimeMs` was captured at `captureTimeMs`. */
  recordCapture(mediaTimeMs: number, captureTimeMs: number): void {
    this.media.push(mediaTimeMs);
    this.capture.push(captureTimeMs);
    if (this.media.length > MAX_POINTS) {
      this.media = this.media.slice(-MAX_POINTS / 2);
      this.capture = this.capture.slice(-MAX_POINTS / 2);
    }
  }

  /** Client capture time of a session audio time, or undefined when it is not known. */
  captureTimeOf(mediaTimeMs: number): number | undefined {
    const n = this.media.length;
    if (n === 0 || mediaTimeMs < this.media[0]!) return undefined;

    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.media[mid]! <= mediaTimeMs) lo = mid;
      else hi = mid - 1;
    }
    return this.capture[lo]! + (mediaTimeMs - this.media[lo]!);
  }

  speechStopped(segmentId: string, endMs: number): void {
    const atMs = this.captureTimeOf(endMs);
    if (atMs === undefined) return;
    this.speechEnds.set(segmentId, { endMs, atMs });
    trim(this.speechEnds);
  }

  responseStarted(responseId: string, inReplyTo: string): void {
    this.replies.set(responseId, inReplyTo);
    trim(this.replies);
  }

  /** The player started the first frame of `responseId` at `atMs`; returns the turn's latency once. */
  firstPlayed(responseId: string, atMs: number): TurnLatency | undefined {
    if (this.reported.has(responseId)) return undefined;
    const segmentId = this.replies.get(responseId);
    const end = segmentId === undefined ? undefined : this.speechEnds.get(segmentId);
    if (segmentId === undefined || !end) return undefined;

    this.reported.add(responseId);
    if (this.reported.size > MAX_PENDING)
      this.reported.delete(this.reported.values().next().value!);
    return {
      responseId,
      segmentId,
      speechEndMs: end.endMs,
      speechEndAtMs: end.atMs,
      firstPlayedAtMs: atMs,
      earLatencyMs: atMs - end.atMs,
    };
  }

  /** Forgets everything (a new session: its audio clock restarts at 0). */
  reset(): void {
    this.media = [];
    this.capture = [];
    this.speechEnds.clear();
    this.replies.clear();
    this.reported.clear();
  }
}

function trim<K, V>(map: Map<K, V>): void {
  while (map.size > MAX_PENDING) map.delete(map.keys().next().value!);
}
