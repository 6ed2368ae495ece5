/**
 * Call-centre metrics of a transcribe session, as a pure accumulator: fed the speech segments of
 * each track and the customer's emotion, it gives the bodies of `call.metrics` (periodic) and
 * `call.summary` (at the end): talk ratio per party, talk-over time, the longest silence, and
 * the customer's mean valence and arousal. All times are session audio ms.
 *
 * Wiring (pipeline): pass every event body of the session to `observe(body)` (it picks
 * `vad.speech_started`, `vad.speech_stopped` and `emotion.final`); when `due(nowMs)` holds emit
 * `snapshot(nowMs, 'call.metrics')`; before `session.ended` emit `snapshot(endMs, 'call.summary')`.
 */
import type { CallMetricsEvent } from '../protocol/messages.js';

/** The event fields `observe` reads; any server event body fits. */
export interface ObservedBody {
  type: string;
  track?: number;
  startMs?: number;
  endMs?: number;
  valence?: number;
  arousal?: number;
  uncertain?: boolean;
  segmentId?: string;
}

export interface CallMetricsOptions {
  tracks: number;
  /** Track whose emotion is reported as the customer's. See `customerTrackOf`. */
  customerTrack: number;
  /** Interval of `call.metrics`, in ms of audio. Default 5000. */
  intervalMs?: number;
}

export type CallMetricsBody = Omit<CallMetricsEvent, 'sessionId' | 'timeMs'>;

/**
 * The customer's track: the one whose role is `customer` (or `caller`); for a single track, that
 * track (the caller of a mono or Twilio inbound stream); otherwise -1, none: with two tracks and
 * no roles, guessing would report the agent's emotion as the customer's.
 */
export function customerTrackOf(
  channelRoles: readonly string[] | undefined,
  tracks: number,
): number {
  const at = channelRoles?.findIndex((r) => /^(customer|caller)$/i.test(r)) ?? -1;
  if (at >= 0 && at < tracks) return at;
  return tracks === 1 ? 0 : -1;
}

export class CallMetrics {
  private readonly segments: Array<Array<[number, number]>>;
  private readonly openStart: Array<number | undefined>;
  private readonly intervalMs: number;
  private nextDueMs: number;
  private valenceSum = 0;
  private arousalSum = 0;
  private emotionWeight = 0;

  constructor(private readonly options: CallMetricsOptions) {
    this.segments = Array.from({ length: options.tracks }, () => []);
    this.openStart = new Array(options.tracks).fill(undefined);
    this.intervalMs = options.intervalMs ?? 5000;
    this.nextDueMs = this.intervalMs;
  }

  /** Feeds any event body; the ones that matter are recorded, the rest ignored. */
  observe(body: ObservedBody): void {
    const track = body.track;
    if (track === undefined || track < 0 || track >= this.options.tracks) return;
    if (body.type === 'vad.speech_started' && body.startMs !== undefined)
      this.speechStarted(track, body.startMs);
    else if (
      body.type === 'vad.speech_stopped' &&
      body.startMs !== undefined &&
      body.endMs !== undefined
    ) {
      this.speechStopped(track, body.startMs, body.endMs);
    } else if (
      body.type === 'emotion.final' &&
      body.valence !== undefined &&
      body.arousal !== undefined &&
      !body.uncertain
    ) {
      this.addEmotion(track, body.valence, body.arousal);
    }
  }

  speechStarted(track: number, startMs: number): void {
    this.openStart[track] = startMs;
  }

  speechStopped(track: number, startMs: number, endMs: number): void {
    this.openStart[track] = undefined;
    if (!(endMs > startMs)) return;
    this.segments[track]!.push([startMs, endMs]);
  }

  /** One utterance's emotion; only the customer's track counts. `weight` defaults to 1. */
  addEmotion(track: number, valence: number, arousal: number, weight = 1): void {
    if (track !== this.options.customerTrack || !(weight > 0)) return;
    if (!Number.isFinite(valence) || !Number.isFinite(arousal)) return;
    this.valenceSum += valence * weight;
    this.arousalSum += arousal * weight;
    this.emotionWeight += weight;
  }

  /** True once per `intervalMs` of audio: time for a `call.metrics`. */
  due(nowMs: number): boolean {
    if (nowMs < this.nextDueMs) return false;
    this.nextDueMs = (Math.floor(nowMs / this.intervalMs) + 1) * this.intervalMs;
    return true;
  }

  /** Metrics of the call up to `nowMs`; open speech counts up to `nowMs`. */
  snapshot(nowMs: number, type: CallMetricsBody['type'] = 'call.metrics'): CallMetricsBody {
    const perTrack = this.segments.map((segs, t) => {
      const open = this.openStart[t];
      const all =
        open !== undefined && nowMs > open ? [...segs, [open, nowMs] as [number, number]] : segs;
      return mergeIntervals(
        all
          .map(([s, e]) => [Math.max(0, s), Math.min(nowMs, e)] as [number, number])
          .filter(([s, e]) => e > s),
      );
    });
    const talkMs = perTrack.map((segs) => segs.reduce((sum, [s, e]) => sum + (e - s), 0));
    const totalTalk = talkMs.reduce((a, b) => a + b, 0);

    const { overlapMs, union } = sweep(perTrack);
    let longestSilenceMs = 0;
    let cursor = 0;
    for (const [s, e] of union) {
      longestSilenceMs = Math.max(longestSilenceMs, s - cursor);
      cursor = Math.max(cursor, e);
    }
    longestSilenceMs = Math.max(longestSilenceMs, nowMs - cursor);

    const hasEmotion = this.emotionWeight > 0;
    return {
      type,
      talkRatio: talkMs.map((ms) => (totalTalk > 0 ? round3(ms / totalTalk) : 0)),
      talkMs: talkMs.map(Math.round),
      talkOverMs: Math.round(overlapMs),
      longestSilenceMs: Math.round(Math.max(0, longestSilenceMs)),
      customerValence: hasEmotion ? round3(this.valenceSum / this.emotionWeight) : null,
      customerArousal: hasEmotion ? round3(this.arousalSum / this.emotionWeight) : null,
    };
  }
}

/** Sorted, non-overlapping intervals covering the same time. */
function mergeIntervals(intervals: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [s, e] of sorted) {
    const last = out.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** Time when two or more tracks talk at once, and the union of all talk. */
function sweep(perTrack: Array<Array<[number, number]>>): {
  overlapMs: number;
  union: Array<[number, number]>;
} {
  const edges: Array<[number, number]> = [];
  for (const segs of perTrack) for (const [s, e] of segs) edges.push([s, 1], [e, -1]);
  // Ends before starts at the same instant: touching segments do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let active = 0;
  let last = 0;
  let overlapMs = 0;
  for (const [t, d] of edges) {
    if (active >= 2) overlapMs += t - last;
    active += d;
    last = t;
  }
  return { overlapMs, union: mergeIntervals(perTrack.flat()) };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
