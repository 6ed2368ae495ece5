/**
 * Decides, window by window, whether the caller is talking over the agent. A VAD window counts
 * as caller speech when its probability reaches the activation threshold and the echo guard does
 * not explain it as the agent's own voice. `bargeInMinMs` of caller speech in a row (windows
 * between the two thresholds neither add nor reset) is a barge-in; a shorter burst (a cough, a
 * click) is not.
 */
import type { EchoGuard, EchoVerdict } from './echo-guard.js';

export interface BargeInOptions {
  bargeInMinMs: number;
  activationThreshold: number;
  deactivationThreshold: number;
  /** Absent when echo suppression is off. */
  echoGuard?: EchoGuard;
}

export interface WindowVerdict {
  /** Speech by the caller (not echo) in this window. */
  callerSpeech: boolean;
  echo: boolean;
  /** Caller speech in the current run, ms. */
  runMs: number;
  /** True on the window where the run reaches `bargeInMinMs`. */
  bargeIn: boolean;
  verdict?: EchoVerdict;
}

export class BargeInDetector {
  private runMs = 0;
  private lastEndMs: number | undefined;
  private fired = false;

  constructor(private readonly options: BargeInOptions) {}

  /** Judges the VAD window ending at `endMs` (track ms). `armed`: a reply is active. */
  window(endMs: number, probability: number, armed: boolean): WindowVerdict {
    const windowMs = this.lastEndMs === undefined ? 32 : Math.max(0, endMs - this.lastEndMs);
    this.lastEndMs = endMs;
    const { activationThreshold, deactivationThreshold, echoGuard, bargeInMinMs } = this.options;

    let echo = false;
    let verdict: EchoVerdict | undefined;
    if (echoGuard && probability >= deactivationThreshold) {
      verdict = echoGuard.analyze(Math.round(endMs * 16));
      echo = verdict.referenceActive && verdict.echo;
    }
    const callerSpeech = probability >= activationThreshold && !echo;

    if (callerSpeech) this.runMs += windowMs;
    else if (probability < deactivationThreshold || echo) this.runMs = 0;
    if (this.runMs === 0) this.fired = false;

    const bargeIn = armed && !this.fired && this.runMs >= bargeInMinMs && this.runMs > 0;
    if (bargeIn) this.fired = true;
    return { callerSpeech, echo, runMs: this.runMs, bargeIn, verdict };
  }

  /** Forgets the current run (a new reply starts counting afresh). */
  reset(): void {
    this.runMs = 0;
    this.fired = false;
  }
}
