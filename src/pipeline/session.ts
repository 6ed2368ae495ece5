/**
 * A voice session: one RxJS graph, subscribed once and held here, from codec payloads and client
 * messages to server events and paced agent audio.
 *
 *   pushAudio -> AudioInput -> per track: VAD + prosody + streaming ASR (track-pipeline)
 *                                  \-> signals -> turn-taking, barge-in, replies (turn-pipeline)
 *   handleMessage -> ping/pong, playback position, typed turns, settings
 *
 * Every event leaves through the `EventOutbox` with `sessionId`, `timeMs` (session audio ms) and
 * an index for replay after a resume. The session knows nothing about transports.
 */
import { randomBytes } from 'node:crypto';
import {
  EMPTY,
  Subject,
  concat,
  defer,
  filter,
  map,
  merge,
  mergeMap,
  of,
  share,
  takeUntil,
  tap,
  type Observable,
  type Subscription,
} from 'rxjs';
import type { Logger } from 'pino';
import type { AudioInput } from '../audio/audio-input.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import type {
  ClientMessage,
  SessionEndedEvent,
  SessionStartMessage,
} from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { metrics } from '../metrics/metrics.js';
import { CallMetrics, customerTrackOf } from '../emotion/call-metrics.js';
import { EchoGuard } from './echo-guard.js';
import { ErrorThrottle } from './error-throttle.js';
import type { EmotionContext } from '../llm/conversation-history.js';
import { EventOutbox } from './event-outbox.js';
import type { SessionOutput, TurnSignal } from './session-output.js';
import { SessionStats } from './session-stats.js';
import { defaultStageFactories } from './stage-factories.js';
import type { OutputFormat, StageContext, StageFactories } from './stage-ports.js';
import { trackPipeline, type TrackSettings } from './track-pipeline.js';
import { turnPipeline } from './turn-pipeline.js';
import type {
  AudioPushMeta,
  CreateSession,
  SessionDeps,
  SessionSink,
  TurnState,
  VoiceSession,
} from './types.js';

const OPUS_FRAME_MS = new Set([10, 20, 40, 60]);

type NonStartMessage = Exclude<ClientMessage, SessionStartMessage>;

/** Creates a session from a validated start message; `session.started` is emitted at once. */
export const createSession: CreateSession = (start, deps) => new Session(start, deps);

class Session implements VoiceSession {
  readonly id: string;
  readonly mode: 'agent' | 'transcribe';
  readonly resumeToken: string;
  private readonly outbox: EventOutbox;
  private readonly audioIn$ = new Subject<{ payload: Uint8Array; meta?: AudioPushMeta }>();
  private readonly messages$ = new Subject<NonStartMessage>();
  private readonly ending$ = new Subject<void>();
  private readonly subscription: Subscription;
  private readonly stats: SessionStats;
  private readonly settings: TrackSettings[] = [];
  private state: TurnState = 'listening';
  private endPromise: Promise<SessionEndedEvent> | undefined;
  private resolveEnd!: () => void;
  private readonly graphDone = new Promise<void>((resolve) => (this.resolveEnd = resolve));
  private textTurns = 0;
  private isEnded = false;
  private readonly log: Logger;
  private readonly decoder: AudioInput;
  private readonly codec: string;
  /** The caller's latest confident emotion (track 0), given to the LLM with the user turn. */
  private callerEmotion?: EmotionContext;
  /** Talk ratio, talk-over and silence of a transcribe (call-center) session. */
  private readonly callMetrics?: CallMetrics;

  constructor(start: SessionStartMessage, deps: SessionDeps) {
    this.id = `ses_${randomBytes(9).toString('base64url')}`;
    this.resumeToken = randomBytes(18).toString('base64url');
    const log = deps.log.child({ sessionId: this.id });
    this.log = log;
    const { config, engines } = deps;
    const agentPossible = engines.llm !== undefined && engines.tts !== undefined;
    this.mode = start.mode === 'agent' && agentPossible ? 'agent' : 'transcribe';
    this.outbox = new EventOutbox(this.id, deps.sink, log, deps.replayBufferEvents);
    this.stats = new SessionStats();

    const stages: StageFactories = { ...defaultStageFactories, ...deps.stages };
    const ctx: StageContext = { config, start, log };
    const decoder = stages.inputDecoder(ctx);
    this.decoder = decoder;
    const output = outputFormat(start);

    this.emit({
      type: 'session.started',
      protocolVersion: PROTOCOL_VERSION,
      mode: this.mode,
      resumeToken: this.resumeToken,
      resumed: false,
      tracks: decoder.trackCount,
      output,
    });
    if (start.mode === 'agent' && !agentPossible) {
      const message = 'agent mode needs an LLM and a TTS engine; running as transcribe';
      this.emit({ type: 'error', code: ERROR_CODES.modeNotSupported, message, recoverable: true });
    }
    metrics.sessionsTotal.inc({ mode: this.mode });
    metrics.sessionsActive.inc({ mode: this.mode });
    const { codec } = start.audio;
    this.codec = codec;
    const tracks = decoder.trackCount;
    if (this.mode === 'transcribe') {
      const customerTrack = customerTrackOf(start.channelRoles, tracks);
      this.callMetrics = new CallMetrics({ tracks, customerTrack });
    }
    // The edges write the info-level lifecycle lines (gateway/lifecycle-log.ts, the Twilio endpoint).
    log.debug({ mode: this.mode, codec, tracks, metadata: start.metadata }, 'session started');

    // Decode once, shared by every track.
    const decoded$ = concat(
      this.audioIn$.pipe(map(({ payload, meta }) => decoder.push(payload, meta))),
      defer(() => of({ tracks: decoder.flush(), errors: [], lostFrames: 0, reordered: false })),
    ).pipe(
      tap((d) => {
        this.stats.addAudio(d.tracks[0]?.length ?? 0);
        if (d.lostFrames > 0) metrics.framesLost.inc(d.lostFrames);
        const decodeErrors = d.errors.filter((e) => e.code === ERROR_CODES.opusDecode).length;
        if (decodeErrors > 0) metrics.decodeErrors.inc({ codec }, decodeErrors);
      }),
      share(),
    );
    const throttle = new ErrorThrottle();
    const decodeErrors$ = decoded$.pipe(
      mergeMap((d) => d.errors),
      mergeMap((err) => {
        const admitted = throttle.admit(err.code, err.message, this.stats.audioMs);
        return admitted ? [admitted] : [];
      }),
      map(
        (err): SessionOutput => ({
          kind: 'event',
          body: { type: 'error', ...err, recoverable: true },
        }),
      ),
    );

    const guarded = this.mode === 'agent' && config.turn.echoSuppression;
    const echoGuard = guarded ? new EchoGuard() : undefined;
    const emotionOn = config.emotion.enabled && start.emotion?.enabled !== false;
    const tracks$ = Array.from({ length: decoder.trackCount }, (_, index) => {
      const role = start.channelRoles?.[index];
      const settings: TrackSettings = {
        prosodyIntervalMs: start.prosodyIntervalMs ?? config.session.prosodyIntervalMs,
        emotionEnabled: emotionOn && !(start.emotion?.disabledChannels ?? []).includes(index),
      };
      this.settings.push(settings);
      const trackLog = log.child({ track: index });
      const audio$ = decoded$.pipe(
        map((d) => d.tracks[index] ?? new Float32Array(0)),
        tap((samples) => {
          if (index === 0) {
            echoGuard?.pushInbound(samples);
            this.stats.markInbound(samples.length);
          }
        }),
      );
      return audio$.pipe(
        trackPipeline({
          track: index,
          role,
          sessionPrefix: this.id.slice(4, 10),
          createVad: (options, trackLog) => engines.vad.createStream(options, trackLog),
          vadOptions: {},
          prosody: stages.prosody(ctx, { index, role }),
          transcriber: stages.transcriber(ctx, { index, role }, engines.asr),
          emotion: deps.emotion?.(ctx, { index, role }),
          settings,
          probabilitySignals: this.mode === 'agent' && index === 0,
          log: trackLog,
        }),
      );
    });
    const trackOut$ = merge(...tracks$).pipe(share());

    const signals$: Observable<TurnSignal> = merge(
      trackOut$.pipe(mergeMap((o) => (o.kind === 'signal' ? [o.signal] : []))),
      this.messages$.pipe(mergeMap((m) => this.toSignal(m))),
    );
    const turn$ =
      this.mode === 'agent'
        ? signals$.pipe(
            takeUntil(this.ending$),
            turnPipeline({
              config,
              llm: engines.llm!,
              tts: engines.tts!,
              encoder: stages.agentEncoder(ctx, output),
              conversation: stages.conversation(ctx, engines.llm!, () => this.callerEmotion),
              log,
              echoGuard,
              inboundPositionAt: (wallMs) => this.stats.inboundPositionAt(wallMs),
              onState: (state) => (this.state = state),
              idPrefix: this.id.slice(4, 10),
            }),
          )
        : EMPTY;
    const control$ = this.messages$.pipe(mergeMap((m) => this.control(m)));

    const trackEvents$ = trackOut$.pipe(filter((o) => o.kind !== 'signal'));
    const graph$ = merge(decodeErrors$, trackEvents$, turn$, control$);
    this.subscription = graph$.subscribe({
      next: (out) => this.dispatch(out),
      error: (err: unknown) => {
        log.error({ err }, 'session graph failed');
        const message = 'session failed';
        this.emit({ type: 'error', code: ERROR_CODES.internal, message, recoverable: false });
        this.resolveEnd();
      },
      complete: () => this.resolveEnd(),
    });
  }

  get lastEventIndex(): number {
    return this.outbox.lastIndex;
  }

  get turnState(): TurnState {
    return this.state;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  pushAudio(payload: Uint8Array, meta?: AudioPushMeta): void {
    if (this.isEnded) return;
    metrics.framesTotal.inc({ codec: this.codec });
    this.audioIn$.next({ payload, meta });
  }

  handleMessage(message: NonStartMessage): void {
    if (this.isEnded) return;
    if (message.type === 'session.end') {
      void this.end(message.reason ?? 'client');
      return;
    }
    this.messages$.next(message);
  }

  attach(sink: SessionSink, replayAfterEventIndex?: number): void {
    this.outbox.attach(sink, replayAfterEventIndex);
  }

  detach(): void {
    this.outbox.detach();
  }

  end(reason: string): Promise<SessionEndedEvent> {
    this.endPromise ??= this.finish(reason);
    return this.endPromise;
  }

  private async finish(reason: string): Promise<SessionEndedEvent> {
    this.isEnded = true;
    // Replies stop first (no new turn may start from the flushed finals), then the tracks flush.
    this.ending$.next();
    this.ending$.complete();
    this.messages$.complete();
    this.audioIn$.complete();
    // Open segments are finished and transcribed before the end; a decode that hangs must not
    // hold the session (and a server shutdown) forever.
    let deadline: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      deadline = setTimeout(() => resolve('late'), FINISH_DEADLINE_MS);
    });
    if ((await Promise.race([this.graphDone, late])) === 'late') {
      this.log.warn(
        { deadlineMs: FINISH_DEADLINE_MS },
        'session end gave up waiting for its tracks',
      );
    }
    clearTimeout(deadline);
    this.subscription.unsubscribe();

    const input = this.stats.snapshot(this.decoder.stats);
    if (this.callMetrics) this.emit(this.callMetrics.snapshot(this.stats.audioMs, 'call.summary'));
    const ended = this.emit({ type: 'session.ended', reason, stats: input }) as SessionEndedEvent;
    metrics.sessionsActive.dec({ mode: this.mode });
    this.log.debug({ reason, ...input }, 'session ended');
    return ended;
  }

  private toSignal(message: NonStartMessage): TurnSignal[] {
    if (message.type === 'input.text') {
      if (this.mode !== 'agent') return [];
      const id = `text:${++this.textTurns}`;
      return [{ type: 'text', text: message.text, id, wallMs: performance.now() }];
    }
    if (message.type === 'playback.position') {
      return [{ type: 'playback', responseId: message.responseId, playedMs: message.playedMs }];
    }
    return [];
  }

  private control(message: NonStartMessage): SessionOutput[] {
    switch (message.type) {
      case 'ping':
        const { id, clientTimeMs } = message;
        const serverTimeMs = Date.now();
        return [{ kind: 'event', body: { type: 'pong', id, clientTimeMs, serverTimeMs } }];
      case 'session.update':
        for (const [index, settings] of this.settings.entries()) {
          const { prosodyIntervalMs, emotion } = message;
          if (prosodyIntervalMs !== undefined) settings.prosodyIntervalMs = prosodyIntervalMs;
          if (emotion?.enabled !== undefined) settings.emotionEnabled = emotion.enabled;
          if (emotion?.disabledChannels?.includes(index)) settings.emotionEnabled = false;
        }
        return [];
      case 'input.text':
        if (this.mode === 'agent') return [];
        const body = {
          type: 'error' as const,
          code: ERROR_CODES.modeNotSupported,
          message: 'input.text needs an agent session',
          recoverable: true,
        };
        return [{ kind: 'event', body }];
      default:
        return [];
    }
  }

  private dispatch(out: SessionOutput): void {
    if (out.kind === 'audio') {
      this.outbox.audio(out.frame);
      return;
    }
    if (out.kind !== 'event') return;
    this.outbox.emit(out.body, out.timeMs ?? this.stats.audioMs);
    const body = out.body;
    if ((body.type === 'emotion.final' || body.type === 'emotion.update') && body.track === 0) {
      const top = body.tags.find((t) => t.label !== 'uncertain');
      // Arousal goes from the protocol's -1..1 to the history note's 0..1.
      this.callerEmotion =
        body.uncertain || !top
          ? undefined
          : { label: top.label, arousal: (body.arousal + 1) / 2, valence: body.valence };
    }
    if (this.callMetrics) {
      this.callMetrics.observe(out.body);
      const nowMs = this.stats.audioMs;
      if (this.callMetrics.due(nowMs)) this.emit(this.callMetrics.snapshot(nowMs, 'call.metrics'));
    }
  }

  private emit(body: Parameters<EventOutbox['emit']>[0]) {
    return this.outbox.emit(body, this.stats?.audioMs ?? 0);
  }
}

/** Longest wait at the end of a session for open segments to be transcribed, in ms. */
const FINISH_DEADLINE_MS = 60_000;

/** The agent audio format: the client's `output`, else the input codec and rate. */
function outputFormat(start: SessionStartMessage): OutputFormat {
  const codec = start.output?.codec ?? start.audio.codec;
  const sampleRateHz = start.output?.sampleRateHz ?? start.audio.sampleRateHz;
  let frameMs = start.audio.frameMs;
  if (codec === 'opus' && !OPUS_FRAME_MS.has(frameMs)) frameMs = 20;
  if (!Number.isInteger((sampleRateHz * frameMs) / 1000)) frameMs = 20;
  return { codec, sampleRateHz, frameMs };
}
