/**
 * The listening side of one simulated caller: reads the server's events and agent audio, measures
 * each turn (first partial, final, first audio, server stage timings, barge-in cancel and stop
 * times) into `RunMetrics`, and tells the turn script when a reply arrived, ended or was cut.
 */
import type { ServerEvent } from '../../src/protocol/messages.js';
import { decodeFrame, FRAME_KIND } from '../../src/protocol/frame-header.js';
import type { CallerOptions } from './caller.js';
import type { RunMetrics } from './run-metrics.js';
import type { TurnScript } from './turn-script.js';

/** What the measurement asks of the caller that owns it. */
export interface MeasurementHooks {
  /** `session.started` arrived. */
  onStarted(): void;
  /** True once the caller ended its session (a `session.ended` then is not an error). */
  isEnded(): boolean;
}

/** Per-turn measurements of one caller; all times are `performance.now()` in ms. */
export class TurnMeasurement {
  private readonly lastSeq = new Map<number, number>();
  private readonly lastFrameAt = new Map<number, number>();
  private readonly streamOf = new Map<string, number>();

  constructor(
    private readonly o: CallerOptions,
    private readonly script: TurnScript,
    private readonly random: () => number,
    private readonly hooks: MeasurementHooks,
  ) {}

  /** One WebSocket message from the server. */
  onMessage(data: Buffer, isBinary: boolean): void {
    const now = performance.now();
    if (isBinary) return this.onAgentFrame(data, now);

    let event: ServerEvent;
    try {
      event = JSON.parse(data.toString('utf8')) as ServerEvent;
    } catch {
      this.o.metrics.errors.add('client:bad-json-from-server');
      return;
    }
    this.onEvent(event, now);
  }

  /**
   * Barge-in stop time: from the interruption's speech onset to the last agent frame of the
   * response it cancelled (barge-in cancels only). Call once, after the socket closed.
   */
  finishInterrupts(): void {
    for (const interrupt of this.script.interrupts) {
      if (interrupt.cancelledAt === undefined) continue;
      const stream = interrupt.stream ?? this.streamOf.get(interrupt.responseId);
      const lastAt = stream === undefined ? undefined : this.lastFrameAt.get(stream);
      const from = interrupt.speechAt ?? interrupt.startAt;
      const stopMs = lastAt === undefined ? 0 : Math.max(0, lastAt - from);
      this.o.metrics.add('bargeInStopMs', stopMs);
    }
  }

  private onEvent(event: ServerEvent, now: number): void {
    const { metrics } = this.o;
    const script = this.script;
    const turn = script.turn;
    switch (event.type) {
      case 'session.started':
        this.hooks.onStarted();
        return;
      case 'transcript.partial':
        if (turn && turn.firstPartialAt === undefined) {
          turn.firstPartialAt = now;
          metrics.add('firstPartialMs', now - turn.speechStartAt);
        }
        return;
      case 'transcript.final':
        if (turn?.speechEndAt !== undefined && turn.finalAt === undefined) {
          turn.finalAt = now;
          metrics.add('finalMs', now - turn.speechEndAt);
        }
        return;
      case 'response.started':
        if (event.stream !== undefined) this.streamOf.set(event.responseId, event.stream);
        if (turn?.speechEndAt !== undefined && turn.responseId === undefined) {
          turn.responseId = event.responseId;
          turn.stream = event.stream;
        }
        return;
      case 'response.done':
        return this.onResponseDone(event, now);
      case 'response.cancelled': {
        metrics.cancelled.add(event.reason);
        const interrupt = script.interrupts.find((i) => i.responseId === event.responseId);
        if (interrupt && interrupt.cancelledAt === undefined && !interrupt.missed) {
          // Only a barge-in answers the interruption: a reply cut by the session's end (the run
          // stopping) or by a later turn was not stopped by it, and its time says nothing.
          if (event.reason === 'barge-in') {
            interrupt.cancelledAt = now;
            metrics.count('interruptsCancelled');
            metrics.add('bargeInCancelMs', now - (interrupt.speechAt ?? interrupt.startAt));
          } else {
            interrupt.missed = true;
            metrics.count('interruptsMissed');
          }
        }
        if (turn?.responseId === event.responseId && script.phase === 'waiting') script.pause(now);
        return;
      }
      case 'error':
        metrics.errors.add(event.code);
        return;
      case 'session.ended':
        if (!this.hooks.isEnded()) metrics.errors.add(`session-ended:${event.reason}`);
        return;
      default:
        return;
    }
  }

  private onResponseDone(
    event: Extract<ServerEvent, { type: 'response.done' }>,
    now: number,
  ): void {
    const { metrics } = this.o;
    const t = event.timings;
    const put = (
      metric: Parameters<RunMetrics['add']>[0],
      value: number | null | undefined,
    ): void => {
      if (typeof value === 'number') metrics.add(metric, value);
    };
    put('serverSpeechEndToFinalMs', t?.speechEndToFinalMs);
    put('serverFinalToLlmFirstTokenMs', t?.finalToLlmFirstTokenMs);
    put('serverLlmFirstTokenToTtsFirstAudioMs', t?.llmFirstTokenToTtsFirstAudioMs);
    put('serverVoiceToVoiceMs', t?.voiceToVoiceMs);
    put('serverOverheadMs', t?.serverOverheadMs);
    put('serverModelComputeMs', t?.modelComputeMs);
    put('serverQueueWaitMs', t?.queueWaitMs);
    if (typeof t?.ttsFirstAudioToFirstFrameMs === 'number') {
      metrics.add('serverTtsAudioToSentMs', t.ttsFirstAudioToFirstFrameMs);
    } else if (
      t &&
      t.voiceToVoiceMs !== null &&
      t.speechEndToFinalMs !== null &&
      t.finalToLlmFirstTokenMs !== null &&
      t.llmFirstTokenToTtsFirstAudioMs !== null
    ) {
      const stages =
        t.speechEndToFinalMs + t.finalToLlmFirstTokenMs + t.llmFirstTokenToTtsFirstAudioMs;
      metrics.add('serverTtsAudioToSentMs', t.voiceToVoiceMs - stages);
    }

    for (const interrupt of this.script.interrupts) {
      if (interrupt.responseId !== event.responseId || interrupt.cancelledAt !== undefined)
        continue;
      if (interrupt.missed) continue;
      interrupt.missed = true;
      metrics.count('interruptsMissed');
    }
    const turn = this.script.turn;
    if (turn?.responseId !== event.responseId) return;
    metrics.count('turnsAnswered');
    if (this.script.phase === 'waiting') {
      // Listen to the rest of the reply (the server sends it about in real time), then pause.
      const playedUntil = (turn.firstAudioAt ?? now) + (event.audioMs ?? 0);
      this.script.pause(Math.max(now, playedUntil));
    }
  }

  private onAgentFrame(data: Buffer, now: number): void {
    const { metrics } = this.o;
    const decoded = decodeFrame(data);
    if (!decoded.ok || decoded.frame.kind !== FRAME_KIND.agentAudio) {
      metrics.errors.add('client:bad-agent-frame');
      return;
    }
    const { stream, seq } = decoded.frame;
    const last = this.lastSeq.get(stream);
    if (last !== undefined && seq > last + 1) metrics.count('agentFramesDropped', seq - last - 1);
    if (last === undefined || seq > last) this.lastSeq.set(stream, seq);
    this.lastFrameAt.set(stream, now);
    metrics.count('agentFrames');

    const turn = this.script.turn;
    if (!turn || turn.speechEndAt === undefined || turn.firstAudioAt !== undefined) return;
    if (turn.stream !== undefined ? turn.stream !== stream : turn.responseId === undefined) return;
    turn.firstAudioAt = now;
    metrics.add('firstAudioMs', now - turn.speechEndAt);
    const chance = this.o.interruptProb ?? 0;
    if (this.script.phase === 'waiting' && chance > 0 && this.random() < chance) {
      this.script.interruptAt = now + this.random() * 200;
    }
  }
}
