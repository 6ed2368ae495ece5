/**
 * One simulated caller: a WebSocket speaking protocol v1, a clock that sends a 20 ms frame every
 * 20 ms of wall time (drift-corrected against the start, catching up in a burst after a stall),
 * and turn-taking on top: speak an utterance, stay silent while waiting for the reply, sometimes
 * interrupt the reply, listen to it, pause, speak again, until the hard stop.
 *
 * The audio never stops: between utterances the caller sends silence, like a phone line.
 */
import WebSocket from 'ws';
import {
  CLOSE_CODES,
  PROTOCOL_VERSION,
  type ServerEvent,
  type SessionMode,
} from '../../src/protocol/messages.js';
import { decodeFrame, encodeFrame, FRAME_KIND } from '../../src/protocol/frame-header.js';
import type { CodecSetup, SpeechSet, Utterance } from './recordings.js';
import type { RunMetrics } from './run-metrics.js';

export interface CallerOptions {
  wsUrl: string;
  mode: SessionMode;
  setup: CodecSetup;
  speech: SpeechSet;
  metrics: RunMetrics;
  /** `performance.now()` at which the caller ends its session. */
  stopAtMs: number;
  /** Send silence only (the always-on path: decode, VAD, prosody). */
  silenceOnly?: boolean;
  /** Chance that a reply is interrupted once its audio arrives, 0..1. */
  interruptProb?: number;
  /** A turn with no `response.done` this long after speech end counts as unanswered; 15000. */
  replyTimeoutMs?: number;
  /** A frame sent more than this after its schedule is late; default one frame (20 ms). */
  lateThresholdMs?: number;
  /** Pause between turns, ms, drawn uniformly; default [400, 1200]. */
  pauseMs?: [number, number];
  /** End the session after this many finished turns (answered or not); default: until the stop. */
  maxTurns?: number;
  /** `prosodyIntervalMs` asked of the server; default 0 (no prosody events, less client work). */
  prosodyIntervalMs?: number;
  /** Random numbers in [0, 1); default Math.random. */
  random?: () => number;
}

interface Turn {
  speechStartAt: number;
  speechEndAt?: number;
  firstPartialAt?: number;
  finalAt?: number;
  responseId?: string;
  stream?: number;
  firstAudioAt?: number;
}

interface Interrupt {
  /** When the interruption's first frame was sent. */
  startAt: number;
  /** When its speech onset frame was sent (`Utterance.speechOnsetFrame`): the measuring origin. */
  speechAt?: number;
  responseId: string;
  stream: number | undefined;
  /** When `response.cancelled` with reason `barge-in` arrived. */
  cancelledAt?: number;
  /** The reply ended some other way (done, session end, new turn): the barge-in was missed. */
  missed?: boolean;
}

/** Speech an interruption must hold after its onset: a sentence, not a word or a breath. */
const MIN_INTERRUPT_SPEECH_MS = 1000;

/** Utterances fit to interrupt with: speech from a known onset, long enough to barge in. */
function interruptible(list: readonly Utterance[]): Utterance[] {
  const fit = list.filter((u) => {
    if (u.speechOnsetFrame === null) return false;
    const frameMs = u.durationMs / u.frames.length;
    return u.durationMs - u.speechOnsetFrame * frameMs >= MIN_INTERRUPT_SPEECH_MS;
  });
  return fit.length > 0 ? fit : [...list];
}

type Phase = 'idle' | 'speaking' | 'waiting';

/**
 * Socket options that keep hundreds of callers cheap: no compression, no UTF-8 check of the
 * server's text, and an all-zero mask, which `ws` then skips applying. A zero mask is fine for a
 * load generator on loopback; a real client behind proxies keeps random masks.
 */
export const LEAN_SOCKET = {
  perMessageDeflate: false,
  skipUTF8Validation: true,
  generateMask: () => {},
} as const;

/** Runs one caller to its stop time; never throws (failures are counted in `metrics.errors`). */
export async function runCaller(options: CallerOptions): Promise<void> {
  const caller = new Caller(options);
  await caller.run();
}

class Caller {
  private readonly random: () => number;
  private ws!: WebSocket;
  private phase: Phase = 'idle';
  private speakAt = 0;
  private utterance: Utterance | undefined;
  private utteranceFrame = 0;
  private turn: Turn | undefined;
  private interruptAt: number | undefined;
  private readonly interrupts: Interrupt[] = [];
  /** The interruption being spoken, until its speech onset frame is sent. */
  private speakingInterrupt: Interrupt | undefined;
  private interruptUtterances: Utterance[] | undefined;
  private readonly lastSeq = new Map<number, number>();
  private readonly lastFrameAt = new Map<number, number>();
  private readonly streamOf = new Map<string, number>();
  private ended = false;
  private turnsFinished = 0;
  private timer: NodeJS.Timeout | undefined;
  private onEnded: (() => void) | undefined;

  constructor(private readonly o: CallerOptions) {
    this.random = o.random ?? Math.random;
  }

  async run(): Promise<void> {
    const { metrics } = this.o;
    metrics.count('callersStarted');
    try {
      await this.connect();
    } catch (err) {
      metrics.errors.add(`connect-failed:${(err as Error).message.slice(0, 40)}`);
      return;
    }
    const closed = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    this.ws.on('close', (code: number) => {
      if (!this.ended && code !== CLOSE_CODES.normal) metrics.errors.add(`closed:${code}`);
      this.ended = true;
      this.onEnded?.();
    });

    const started = await this.start();
    if (started) {
      metrics.count('sessionsStarted');
      this.speakAt = performance.now() + this.random() * 1000;
      await this.stream();
      await this.end();
    }
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    await closed;
    this.finishInterrupts();
  }

  private connect(): Promise<void> {
    this.ws = new WebSocket(this.o.wsUrl, LEAN_SOCKET);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timeout')), 15_000);
      this.ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    }).finally(() => this.ws.on('error', () => {}));
  }

  private started: ((ok: boolean) => void) | undefined;

  private start(): Promise<boolean> {
    const { setup, mode } = this.o;
    this.ws.send(
      JSON.stringify({
        type: 'session.start',
        version: PROTOCOL_VERSION,
        mode,
        audio: {
          codec: setup.codec,
          sampleRateHz: setup.sampleRateHz,
          channels: 1,
          frameMs: setup.frameMs,
        },
        prosodyIntervalMs: this.o.prosodyIntervalMs ?? 0,
        metadata: { client: 'undertone-loadtest' },
      }),
    );
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), 20_000);
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.started = undefined;
        this.onEnded = undefined;
        if (!ok && !this.ended) this.o.metrics.errors.add('start-timeout');
        resolve(ok);
      };
      this.started = done;
      this.onEnded = () => done(false);
    });
  }

  /** Sends frames on schedule until the stop time or until the socket closes. */
  private stream(): Promise<void> {
    const { metrics, setup } = this.o;
    const frameMs = setup.frameMs;
    const lateMs = this.o.lateThresholdMs ?? frameMs;
    const begin = performance.now();
    let seq = 0;
    return new Promise((resolve) => {
      this.onEnded = () => {
        if (this.timer) clearTimeout(this.timer);
        resolve();
      };
      const tick = (): void => {
        const now = performance.now();
        for (let due = begin + seq * frameMs; due <= now; due = begin + seq * frameMs) {
          if (
            this.ended ||
            due >= this.o.stopAtMs ||
            this.turnsFinished >= (this.o.maxTurns ?? Infinity)
          ) {
            return this.onEnded!();
          }
          const late = now - due;
          metrics.add('frameLatenessMs', late);
          if (late > lateMs) metrics.count('framesLate');
          const payload = this.nextPayload(now);
          this.ws.send(
            encodeFrame(
              { kind: FRAME_KIND.callerAudio, stream: 0, seq, timestampMs: seq * frameMs },
              payload,
            ),
          );
          metrics.count('framesSent');
          seq++;
        }
        this.timer = setTimeout(tick, Math.max(0, begin + seq * frameMs - performance.now()));
      };
      tick();
    });
  }

  /** Sends `session.end` and waits (3 s at most) for the server to close. */
  private async end(): Promise<void> {
    if (this.ended || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ type: 'session.end', reason: 'loadtest-done' }));
    this.ended = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The payload of the frame due now, advancing the turn-taking state. */
  private nextPayload(now: number): Uint8Array {
    const { speech } = this.o;
    if (this.o.silenceOnly) return speech.silence;

    if (this.phase === 'waiting') this.checkWaiting(now);
    if (this.phase === 'idle' && now >= this.speakAt) this.beginSpeaking(now);
    if (this.phase !== 'speaking') return speech.silence;

    const onset = this.speakingInterrupt;
    if (onset && this.utteranceFrame >= (this.utterance!.speechOnsetFrame ?? 0)) {
      onset.speechAt = now;
      this.speakingInterrupt = undefined;
    }
    const frame = this.utterance!.frames[this.utteranceFrame++]!;
    if (this.utteranceFrame >= this.utterance!.frames.length) this.endSpeaking(now);
    return frame;
  }

  private beginSpeaking(now: number, interrupt?: Interrupt): void {
    this.interruptUtterances ??= interruptible(this.o.speech.utterances);
    const list = interrupt ? this.interruptUtterances : this.o.speech.utterances;
    this.speakingInterrupt = interrupt;
    this.utterance = list[Math.floor(this.random() * list.length)]!;
    this.utteranceFrame = 0;
    this.phase = 'speaking';
    this.interruptAt = undefined;
    this.turn = { speechStartAt: now };
    this.o.metrics.count('turns');
  }

  private endSpeaking(now: number): void {
    this.turn!.speechEndAt = now;
    if (this.o.mode === 'transcribe') this.pause(now);
    else this.phase = 'waiting';
  }

  private pause(now: number): void {
    const [lo, hi] = this.o.pauseMs ?? [400, 1200];
    this.turnsFinished++;
    this.phase = 'idle';
    this.speakAt = now + lo + this.random() * (hi - lo);
  }

  private checkWaiting(now: number): void {
    const turn = this.turn!;
    if (this.interruptAt !== undefined && now >= this.interruptAt && turn.responseId) {
      const interrupt: Interrupt = {
        startAt: now,
        responseId: turn.responseId,
        stream: turn.stream,
      };
      this.interrupts.push(interrupt);
      this.o.metrics.count('interrupts');
      this.beginSpeaking(now, interrupt);
      return;
    }
    if (!turn.responseId && now - turn.speechEndAt! > (this.o.replyTimeoutMs ?? 15_000)) {
      this.o.metrics.count('turnsNoReply');
      this.pause(now);
    }
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
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

  private onEvent(event: ServerEvent, now: number): void {
    const { metrics } = this.o;
    const turn = this.turn;
    switch (event.type) {
      case 'session.started':
        this.started?.(true);
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
        const interrupt = this.interrupts.find((i) => i.responseId === event.responseId);
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
        if (turn?.responseId === event.responseId && this.phase === 'waiting') this.pause(now);
        return;
      }
      case 'error':
        metrics.errors.add(event.code);
        return;
      case 'session.ended':
        if (!this.ended) metrics.errors.add(`session-ended:${event.reason}`);
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

    for (const interrupt of this.interrupts) {
      if (interrupt.responseId !== event.responseId || interrupt.cancelledAt !== undefined)
        continue;
      if (interrupt.missed) continue;
      interrupt.missed = true;
      metrics.count('interruptsMissed');
    }
    const turn = this.turn;
    if (turn?.responseId !== event.responseId) return;
    metrics.count('turnsAnswered');
    if (this.phase === 'waiting') {
      // Listen to the rest of the reply (the server sends it about in real time), then pause.
      const playedUntil = (turn.firstAudioAt ?? now) + (event.audioMs ?? 0);
      this.pause(Math.max(now, playedUntil));
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

    const turn = this.turn;
    if (!turn || turn.speechEndAt === undefined || turn.firstAudioAt !== undefined) return;
    if (turn.stream !== undefined ? turn.stream !== stream : turn.responseId === undefined) return;
    turn.firstAudioAt = now;
    metrics.add('firstAudioMs', now - turn.speechEndAt);
    const chance = this.o.interruptProb ?? 0;
    if (this.phase === 'waiting' && chance > 0 && this.random() < chance) {
      this.interruptAt = now + this.random() * 200;
    }
  }

  /**
   * Barge-in stop time: from the interruption's speech onset to the last agent frame of the
   * response it cancelled (barge-in cancels only).
   */
  private finishInterrupts(): void {
    for (const interrupt of this.interrupts) {
      if (interrupt.cancelledAt === undefined) continue;
      const stream = interrupt.stream ?? this.streamOf.get(interrupt.responseId);
      const lastAt = stream === undefined ? undefined : this.lastFrameAt.get(stream);
      const from = interrupt.speechAt ?? interrupt.startAt;
      const stopMs = lastAt === undefined ? 0 : Math.max(0, lastAt - from);
      this.o.metrics.add('bargeInStopMs', stopMs);
    }
  }
}
