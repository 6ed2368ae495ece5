/**
 * What one load run measures, shared by all its callers. Latencies are in ms on the load tester's
 * own clock (`performance.now()`); `server*` series copy the `timings` of `response.done`.
 */
import { Series, Tally, type Summary } from './stats.js';

export const TURN_METRICS = {
  firstPartialMs: 'speech start -> first partial',
  finalMs: 'speech end -> final transcript',
  firstAudioMs: 'speech end -> first agent audio',
  bargeInCancelMs: 'interrupt speech -> barge-in cancel',
  bargeInStopMs: 'interrupt speech -> last agent frame',
  frameLatenessMs: 'sender lateness per frame',
  serverSpeechEndToFinalMs: 'server: speech end -> final',
  serverFinalToLlmFirstTokenMs: 'server: final -> LLM first token',
  serverLlmFirstTokenToTtsFirstAudioMs: 'server: LLM token -> TTS audio',
  serverTtsAudioToSentMs: 'server: TTS audio -> sent',
  serverVoiceToVoiceMs: 'server: voice to voice',
  serverOverheadMs: 'server: own overhead',
  serverModelComputeMs: 'server: model compute',
  serverQueueWaitMs: 'server: queue waits',
} as const;

export type TurnMetric = keyof typeof TURN_METRICS;

export const COUNTERS = [
  'callersStarted',
  'sessionsStarted',
  'turns',
  'turnsAnswered',
  'turnsNoReply',
  'interrupts',
  'interruptsCancelled',
  'interruptsMissed',
  'framesSent',
  'framesLate',
  'agentFrames',
  'agentFramesDropped',
] as const;

export type Counter = (typeof COUNTERS)[number];

export class RunMetrics {
  readonly series = Object.fromEntries(
    Object.keys(TURN_METRICS).map((k) => [k, new Series()]),
  ) as Record<TurnMetric, Series>;
  readonly counters = Object.fromEntries(COUNTERS.map((k) => [k, 0])) as Record<Counter, number>;
  /** Error events by code, plus client-side failures (`connect-failed`, `closed:4429`, ...). */
  readonly errors = new Tally();
  /** `response.cancelled` by reason. */
  readonly cancelled = new Tally();

  add(metric: TurnMetric, valueMs: number): void {
    this.series[metric].add(valueMs);
  }

  count(counter: Counter, n = 1): void {
    this.counters[counter] += n;
  }

  snapshot(): RunMetricsSnapshot {
    const sent = this.counters.framesSent;
    const agent = this.counters.agentFrames + this.counters.agentFramesDropped;
    return {
      latency: Object.fromEntries(
        Object.entries(this.series).map(([k, s]) => [k, s.summary()]),
      ) as Record<TurnMetric, Summary>,
      counters: { ...this.counters },
      lateFrameRatio: sent === 0 ? 0 : this.counters.framesLate / sent,
      droppedFrameRatio: agent === 0 ? 0 : this.counters.agentFramesDropped / agent,
      errors: this.errors.toJSON(),
      cancelled: this.cancelled.toJSON(),
    };
  }
}

export interface RunMetricsSnapshot {
  latency: Record<TurnMetric, Summary>;
  counters: Record<Counter, number>;
  /** Frames sent later than the late threshold, over frames sent. */
  lateFrameRatio: number;
  /** Agent frames missing by sequence number, over agent frames expected. */
  droppedFrameRatio: number;
  errors: Record<string, number>;
  cancelled: Record<string, number>;
}
