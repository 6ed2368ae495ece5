/**
 * The turn-taking script of one simulated caller: speak an utterance, stay silent while waiting
 * for the reply, sometimes interrupt the reply, listen to it, pause, speak again. It decides the
 * payload of every frame the paced sender sends; `turn-measurement.ts` feeds it the server's side.
 */
import type { CallerOptions } from './caller.js';
import type { Utterance } from './recordings.js';

/** One turn of the caller, with the times (`performance.now()`, ms) measured on it. */
export interface Turn {
  speechStartAt: number;
  speechEndAt?: number;
  firstPartialAt?: number;
  finalAt?: number;
  responseId?: string;
  stream?: number;
  firstAudioAt?: number;
}

/** One interruption of a reply (a barge-in attempt). */
export interface Interrupt {
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

/** `idle`: silent until the next turn; `speaking`: sending an utterance; `waiting`: for a reply. */
export type Phase = 'idle' | 'speaking' | 'waiting';

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

/** The turn-taking state of one caller; all times are `performance.now()` in ms. */
export class TurnScript {
  /** Where the caller is in its current turn. */
  phase: Phase = 'idle';
  /** The current (latest) turn, if one began. */
  turn: Turn | undefined;
  /** When to interrupt the reply being heard, if the caller chose to. */
  interruptAt: number | undefined;
  /** Every interruption spoken so far. */
  readonly interrupts: Interrupt[] = [];
  /** Turns finished (answered or not). */
  turnsFinished = 0;
  private speakAt = 0;
  private utterance: Utterance | undefined;
  private utteranceFrame = 0;
  /** The interruption being spoken, until its speech onset frame is sent. */
  private speakingInterrupt: Interrupt | undefined;
  private interruptUtterances: Utterance[] | undefined;

  constructor(
    private readonly o: CallerOptions,
    private readonly random: () => number,
  ) {}

  /** Sets when the first turn begins. */
  speakFirstAt(atMs: number): void {
    this.speakAt = atMs;
  }

  /** The payload of the frame due now, advancing the turn-taking state. */
  nextPayload(now: number): Uint8Array {
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

  /** Ends the current turn and schedules the next one after a random pause from `now`. */
  pause(now: number): void {
    const [lo, hi] = this.o.pauseMs ?? [400, 1200];
    this.turnsFinished++;
    this.phase = 'idle';
    this.speakAt = now + lo + this.random() * (hi - lo);
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
}
