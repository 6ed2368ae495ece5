/**
 * One simulated caller: a WebSocket speaking protocol v1, a clock that sends a 20 ms frame every
 * 20 ms of wall time (drift-corrected against the start, catching up in a burst after a stall),
 * and turn-taking on top: speak an utterance, stay silent while waiting for the reply, sometimes
 * interrupt the reply, listen to it, pause, speak again, until the hard stop.
 *
 * The audio never stops: between utterances the caller sends silence, like a phone line.
 * The parts: `paced-sender.ts` (socket and frame clock), `turn-script.ts` (what to say when),
 * `turn-measurement.ts` (what the server answered, and how fast); this file runs a session.
 */
import WebSocket from 'ws';
import { CLOSE_CODES, type SessionMode } from '../../src/protocol/messages.js';
import { openLeanSocket, sendPaced } from './paced-sender.js';
import { startMessage, type CodecSetup, type SpeechSet } from './recordings.js';
import type { RunMetrics } from './run-metrics.js';
import { TurnMeasurement } from './turn-measurement.js';
import { TurnScript } from './turn-script.js';

export { LEAN_SOCKET } from './paced-sender.js';

/** How one simulated caller behaves; see `runCaller`. */
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

/** Runs one caller to its stop time; never throws (failures are counted in `metrics.errors`). */
export async function runCaller(options: CallerOptions): Promise<void> {
  const caller = new Caller(options);
  await caller.run();
}

class Caller {
  private readonly random: () => number;
  private readonly script: TurnScript;
  private readonly measurement: TurnMeasurement;
  private ws!: WebSocket;
  private ended = false;
  private onEnded: (() => void) | undefined;
  private started: ((ok: boolean) => void) | undefined;

  constructor(private readonly o: CallerOptions) {
    this.random = o.random ?? Math.random;
    this.script = new TurnScript(o, this.random);
    this.measurement = new TurnMeasurement(o, this.script, this.random, {
      onStarted: () => this.started?.(true),
      isEnded: () => this.ended,
    });
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
    this.ws.on('message', (data: Buffer, isBinary: boolean) =>
      this.measurement.onMessage(data, isBinary),
    );
    this.ws.on('close', (code: number) => {
      if (!this.ended && code !== CLOSE_CODES.normal) metrics.errors.add(`closed:${code}`);
      this.ended = true;
      this.onEnded?.();
    });

    const started = await this.start();
    if (started) {
      metrics.count('sessionsStarted');
      this.script.speakFirstAt(performance.now() + this.random() * 1000);
      await this.stream();
      await this.end();
    }
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    await closed;
    this.measurement.finishInterrupts();
  }

  private connect(): Promise<void> {
    const { ws, opened } = openLeanSocket(this.o.wsUrl);
    this.ws = ws;
    return opened;
  }

  /** Sends `session.start`; resolves true on `session.started`, false on a close or after 20 s. */
  private start(): Promise<boolean> {
    const { setup, mode } = this.o;
    this.ws.send(
      JSON.stringify({
        ...startMessage(setup, mode),
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

  /** Sends frames on schedule until the stop time, the turn limit, or until the socket closes. */
  private stream(): Promise<void> {
    const { metrics, setup } = this.o;
    const maxTurns = this.o.maxTurns ?? Infinity;
    const sender = sendPaced({
      ws: this.ws,
      metrics,
      frameMs: setup.frameMs,
      lateThresholdMs: this.o.lateThresholdMs ?? setup.frameMs,
      shouldStop: (dueMs) =>
        this.ended || dueMs >= this.o.stopAtMs || this.script.turnsFinished >= maxTurns,
      nextPayload: (nowMs) => this.script.nextPayload(nowMs),
    });
    this.onEnded = sender.stop;
    return sender.done;
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
}
