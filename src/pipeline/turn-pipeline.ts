/**
 * Turn-taking of an agent session: listening -> user-speaking -> thinking -> agent-speaking.
 *
 * - A final transcript (or `input.text`) starts a turn. Replies run through `switchMap`, so a new
 *   turn replaces the reply in flight; before the switch the old one is cancelled explicitly, so
 *   it can still report what was heard.
 * - Caller speech of `bargeInMinMs` during thinking or speaking cancels the reply (barge-in); the
 *   echo guard keeps the agent's own voice from counting.
 * - A final that arrives during a reply without having barged in (a cough, echo) is not a turn.
 * - A reply cancelled before the caller heard anything leaves no trace in the history: its user
 *   text is merged into the next turn, so the next reply answers both.
 */
import {
  Subject,
  defer,
  ignoreElements,
  merge,
  switchMap,
  tap,
  type Observable,
  type OperatorFunction,
} from 'rxjs';
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import type { AgentAudioEncoder } from '../audio/agent-audio-encoder.js';
import type { LlmEngine } from '../llm/types.js';
import type { TtsEngine } from '../tts/types.js';
import { metrics } from '../metrics/metrics.js';
import { BargeInDetector } from './barge-in-detector.js';
import type { EchoGuard } from './echo-guard.js';
import type { AgentSpeaker } from './agent-speaker.js';
import {
  replyStream,
  type CancelReason,
  type ReplyDeps,
  type ReplyRequest,
  type ReplySettled,
} from './reply-stream.js';
import type { SessionOutput, TurnSignal } from './session-output.js';
import type { ConversationPort } from './stage-ports.js';
import type { TurnState } from './types.js';

export interface TurnDeps {
  config: UndertoneConfig;
  llm: LlmEngine;
  tts: TtsEngine;
  encoder: AgentAudioEncoder;
  conversation: ConversationPort;
  log: Logger;
  /** The session's echo guard (track 0), when echo suppression is on. */
  echoGuard?: EchoGuard;
  /** Wall ms -> inbound sample position of track 0 (for the echo reference). */
  inboundPositionAt?: (wallMs: number) => number;
  /** Track whose speech drives turns (default 0). */
  callerTrack?: number;
  /** Sees every state change (the session mirrors it). */
  onState?: (state: TurnState) => void;
  /** Short id used in response ids. */
  idPrefix: string;
}

interface SegmentInfo {
  /** Track ms when the segment was confirmed. */
  confirmedAtMs: number;
  callerSpeechMs: number;
  echoMs: number;
  bargedIn: boolean;
}

interface ActiveReply {
  responseId: string;
  userText: string;
  /** Track ms of the caller's audio when the reply started. */
  startedAtMs: number;
  speaker?: AgentSpeaker;
}

/** The turn-taking stage: track signals and client input in, reply events and audio out. */
export function turnPipeline(deps: TurnDeps): OperatorFunction<TurnSignal, SessionOutput> {
  return (signals$) =>
    defer(() => {
      const turns = new TurnTaking(deps);
      const control$ = signals$.pipe(
        tap({
          next: (s) => turns.handle(s),
          complete: () => turns.shutdown(),
          unsubscribe: () => turns.shutdown(),
        }),
        ignoreElements(),
      );
      return merge(control$, turns.replies$);
    });
}

class TurnTaking {
  private readonly turns$ = new Subject<ReplyRequest>();
  private readonly cancel$ = new Subject<CancelReason>();
  readonly replies$: Observable<SessionOutput>;
  private readonly detector: BargeInDetector;
  private readonly segments = new Map<string, SegmentInfo>();
  private readonly callerTrack: number;
  private readonly log: Logger;
  private state: TurnState = 'listening';
  private openSegment: string | undefined;
  private positionMs = 0;
  private active: ActiveReply | undefined;
  /** Caller text not yet answered (a reply that was not heard, or a turn held while they spoke). */
  private pendingText = '';
  private responses = 0;
  /** Inbound sample where the last agent frame's reference ends. */
  private referenceEnd: number | undefined;
  private closed = false;

  constructor(private readonly deps: TurnDeps) {
    this.callerTrack = deps.callerTrack ?? 0;
    this.log = deps.log.child({ stage: 'turn' });
    const { config } = deps;
    this.detector = new BargeInDetector({
      bargeInMinMs: config.turn.bargeInMinMs,
      activationThreshold: config.vad.activationThreshold,
      deactivationThreshold: config.vad.deactivationThreshold,
      echoGuard: config.turn.echoSuppression ? deps.echoGuard : undefined,
    });
    this.replies$ = this.turns$.pipe(
      switchMap((request) => replyStream(request, this.replyDeps(), this.cancel$)),
      tap((out) => {
        if (out.kind === 'state') this.setState(out.state);
      }),
    );
  }

  handle(signal: TurnSignal): void {
    if (this.closed) return;
    switch (signal.type) {
      case 'vad':
        if (signal.track === this.callerTrack) this.onVad(signal);
        return;
      case 'final':
        if (signal.track === this.callerTrack) this.onFinal(signal);
        return;
      case 'text':
        this.onText(signal);
        return;
      case 'playback':
        if (this.active?.responseId !== signal.responseId) return;
        this.active.speaker?.reportPlayed(signal.playedMs);
        return;
    }
  }

  /** Session end: the reply in flight is cancelled and no new one starts. */
  shutdown(): void {
    if (this.closed) return;
    this.cancelActive('session-end');
    this.closed = true;
    this.turns$.complete();
    this.cancel$.complete();
  }

  private onVad(signal: Extract<TurnSignal, { type: 'vad' }>): void {
    const event = signal.event;
    if (event.type === 'probability') {
      this.positionMs = event.endMs;
      const armed = this.active !== undefined;
      const verdict = this.detector.window(event.endMs, event.probability, armed);
      const segment = this.openSegment ? this.segments.get(this.openSegment) : undefined;
      if (segment) {
        if (verdict.callerSpeech) segment.callerSpeechMs += 32;
        if (verdict.echo) segment.echoMs += 32;
      }
      if (verdict.bargeIn && this.active && event.endMs > this.active.startedAtMs) {
        const { runMs, verdict: echo } = verdict;
        this.log.debug({ runMs, atMs: event.endMs, echo }, 'barge-in');
        if (segment) segment.bargedIn = true;
        metrics.bargeIns.inc();
        this.cancelActive('barge-in');
        this.setState('user-speaking');
      }
      return;
    }
    if (event.type === 'speech-start' && signal.segmentId) {
      this.openSegment = signal.segmentId;
      const confirmedAtMs = this.positionMs;
      const info = { confirmedAtMs, callerSpeechMs: 0, echoMs: 0, bargedIn: false };
      this.segments.set(signal.segmentId, info);
      if (!this.active) this.setState('user-speaking');
    } else if (event.type === 'speech-end') {
      this.openSegment = undefined;
      if (!this.active) this.setState('thinking');
    }
  }

  private onFinal(final: Extract<TurnSignal, { type: 'final' }>): void {
    const segment = this.segments.get(final.segmentId);
    this.segments.delete(final.segmentId);
    const text = final.text.trim();

    if (this.active) {
      const spokeBefore = segment !== undefined && segment.confirmedAtMs <= this.active.startedAtMs;
      if (!spokeBefore) {
        this.log.debug({ segmentId: final.segmentId }, 'final during reply ignored');
        return;
      }
      this.cancelActive('new-turn');
    }
    const { bargeInMinMs } = this.deps.config.turn;
    const echoOnly =
      segment !== undefined && segment.echoMs > 0 && segment.callerSpeechMs < bargeInMinMs;
    if (echoOnly) {
      const { segmentId } = final;
      this.log.debug({ segmentId, echoMs: segment.echoMs }, 'echo segment ignored');
      if (!this.openSegment) this.setState('listening');
      return;
    }

    const combined = join(this.pendingText, text);
    if (this.openSegment) {
      // The caller is talking again: answer once they stop, both parts together.
      this.pendingText = combined;
      return;
    }
    if (!combined) {
      this.setState('listening');
      return;
    }
    this.startTurn(combined, final.segmentId, final.speechEndWallMs, final.finalWallMs);
  }

  private onText(input: Extract<TurnSignal, { type: 'text' }>): void {
    this.cancelActive('new-turn');
    const combined = join(this.pendingText, input.text.trim());
    if (combined) this.startTurn(combined, input.id, input.wallMs, null);
  }

  private startTurn(
    userText: string,
    inReplyTo: string,
    speechEndWallMs: number,
    finalWallMs: number | null,
  ): void {
    this.pendingText = '';
    const stream = ++this.responses;
    const responseId = `${this.deps.idPrefix}-r${stream}`;
    this.active = { responseId, userText, startedAtMs: this.positionMs };
    this.log.debug({ responseId, inReplyTo, pii: { userText } }, 'turn started');
    this.turns$.next({
      responseId,
      stream,
      inReplyTo,
      userText,
      messages: this.deps.conversation.prompt(userText),
      speechEndWallMs,
      finalWallMs,
    });
  }

  private cancelActive(reason: CancelReason): void {
    if (this.active) this.cancel$.next(reason);
  }

  private onSettled(settled: ReplySettled): void {
    if (this.active?.responseId !== settled.responseId) return;
    this.active = undefined;
    if (settled.outcome === 'done' || settled.assistantText) {
      this.deps.conversation.add(settled.userText, settled.assistantText);
    } else {
      // Nothing was heard: the next turn carries this one's words too.
      this.pendingText = join(settled.userText, this.pendingText);
    }
    this.setState(this.openSegment ? 'user-speaking' : 'listening');
  }

  private replyDeps(): ReplyDeps {
    return {
      config: this.deps.config,
      llm: this.deps.llm,
      tts: this.deps.tts,
      encoder: this.deps.encoder,
      log: this.log,
      onSettled: (settled: ReplySettled) => this.onSettled(settled),
      onSpeaker: (speaker: AgentSpeaker | undefined) => {
        if (this.active) this.active.speaker = speaker;
      },
      onPlayout: (frame, playStartWallMs, contiguous) => {
        const guard = this.deps.echoGuard;
        const at = this.deps.inboundPositionAt;
        if (!guard || !at) return;
        // A run of frames is laid end to end on the caller's timeline from where it started:
        // mapping each frame's wall time on its own would let event-loop jitter tear it apart.
        const run = contiguous ? this.referenceEnd : undefined;
        const position = run ?? at(playStartWallMs);
        guard.addReference(position, frame.reference16k);
        this.referenceEnd = position + frame.reference16k.length;
      },
    };
  }

  private setState(state: TurnState): void {
    if (state === this.state) return;
    this.log.trace({ from: this.state, to: state }, 'turn state');
    this.state = state;
    this.deps.onState?.(state);
  }
}

function join(a: string, b: string): string {
  return [a.trim(), b.trim()].filter(Boolean).join(' ');
}
