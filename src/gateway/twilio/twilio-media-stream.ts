/**
 * The Twilio Media Streams endpoint (`/twilio`): one phone call per WebSocket. Caller audio
 * (mu-law 8 kHz, ~20 ms a message) goes into a voice session; in agent mode the agent's audio
 * goes back as `media` messages, each response's audio followed by `mark`s that Twilio echoes
 * once the caller has heard it (turned into `playback.position`), and `clear` on
 * `response.cancelled` (barge-in). Session events (transcripts, emotion, call metrics) go to the
 * optional `onEvent` hook, the log, and the JSONL transcript sink when configured.
 *
 * The stream URL may carry no query string, so options come as `<Parameter>`s of the TwiML
 * `<Stream>`: `mode` (agent | transcribe), `apiKey` (when the server requires one),
 * `emotion` (`off`), and the rest are kept as session metadata.
 */
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../../config/schema.js';
import { isUndertoneError } from '../../errors/undertone-error.js';
import type { EmotionObserverFactory } from '../../pipeline/stage-ports.js';
import type { CreateSession, Engines, SessionSink, VoiceSession } from '../../pipeline/types.js';
import {
  PROTOCOL_VERSION,
  type ServerEvent,
  type SessionMode,
  type SessionStartMessage,
} from '../../protocol/messages.js';
import { isValidKey, authorizeHeaders } from '../auth.js';
import type { SessionRegistry } from '../session-registry.js';
import type {
  AcceptSocket,
  SocketHandlers,
  TransportSocket,
  UpgradeRequest,
} from '../transport.js';
import {
  clearMessage,
  markMessage,
  markName,
  mediaMessage,
  parseMarkName,
  parseTwilioMessage,
  type TwilioStart,
} from './twilio-messages.js';
import { TranscriptSink } from './transcript-sink.js';

export interface TwilioEndpointDeps {
  config: UndertoneConfig;
  log: Logger;
  createSession: CreateSession;
  /** The engines, or undefined while they load (a call then gets no session and is closed). */
  engines(): Engines | undefined;
  /** The emotion stage (`createEmotionObserverFactory`); absent = no emotion events. */
  emotion?: EmotionObserverFactory;
  /** The server's registry, so calls count toward `maxSessions` and end at shutdown. */
  registry?: SessionRegistry;
  /** Every session event of every call, with the call it belongs to. */
  onEvent?: (call: TwilioCallInfo, event: ServerEvent) => void;
}

export interface TwilioCallInfo {
  streamSid: string;
  callSid?: string;
  sessionId: string;
  mode: SessionMode;
}

export interface TwilioEndpoint {
  /** The acceptor for WebSocket upgrades on `/twilio`. */
  accept: AcceptSocket;
  /** Calls in progress. */
  readonly callCount: number;
  /** Ends every call's session and closes its socket. */
  close(): Promise<void>;
}

/** Marks are sent at most this often per response, in ms of agent audio (and at its end). */
const MARK_EVERY_MS = 200;
const textDecoder = new TextDecoder();

/** Creates the endpoint; mount `accept` for upgrade paths starting with `/twilio`. */
export function createTwilioEndpoint(deps: TwilioEndpointDeps): TwilioEndpoint {
  const calls = new Set<TwilioCall>();
  return {
    accept: (socket, request) => {
      const call = new TwilioCall(socket, request, deps);
      calls.add(call);
      void call.closed.then(() => calls.delete(call));
      return call.handlers();
    },
    get callCount() {
      return calls.size;
    },
    close: async () => {
      await Promise.all([...calls].map((c) => c.hangUp('server-shutdown')));
    },
  };
}

class TwilioCall {
  private log: Logger;
  private lastMessageMs = Date.now();
  private activityTimer?: NodeJS.Timeout;
  private session?: VoiceSession;
  private info?: TwilioCallInfo;
  private streamSid = '';
  private ending?: Promise<void>;
  private sink?: TranscriptSink;
  /** Per response: ms of agent audio sent, and ms covered by the last mark. */
  private readonly sent = new Map<string, { endMs: number; markedMs: number }>();
  private readonly cancelled = new Set<string>();
  /** Events the session emits while it is being created (`session.started`), delivered after. */
  private early: ServerEvent[] | undefined = [];
  private readonly headerAuth: ReturnType<typeof authorizeHeaders>;
  private markClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

  constructor(
    private readonly socket: TransportSocket,
    request: UpgradeRequest,
    private readonly deps: TwilioEndpointDeps,
  ) {
    this.log = deps.log.child({ transport: 'twilio' });
    const { config } = deps;
    this.headerAuth = authorizeHeaders(
      { required: config.server.authRequired, keys: config.server.apiKeys },
      request.headers,
    );
    this.log.info(
      { remoteAddress: request.remoteAddress, path: request.path },
      'twilio stream connected',
    );
    this.watchActivity();
  }

  handlers(): SocketHandlers {
    return {
      onMessage: (data, isBinary) => this.onMessage(data, isBinary),
      onPong: () => {},
      onClose: (code) => {
        this.log.info(
          { code, streamSid: this.streamSid, sessionId: this.session?.id },
          'twilio stream closed',
        );
        clearInterval(this.activityTimer);
        void this.endSession('client-gone').finally(() => this.markClosed());
      },
    };
  }

  /** Ends the session and closes the socket (server shutdown, a dead peer, a failed session). */
  async hangUp(reason: string): Promise<void> {
    clearInterval(this.activityTimer);
    await this.endSession(reason);
    if (this.socket.isOpen) this.socket.close(1001, reason);
  }

  /**
   * Twilio streams a media message every 20 ms for the whole call and answers no WebSocket pings
   * of ours, so a socket silent for two ping intervals belongs to a dead peer: hang up.
   */
  private watchActivity(): void {
    const limitMs = 2 * this.deps.config.server.pingIntervalMs;
    this.lastMessageMs = Date.now();
    this.activityTimer = setInterval(() => {
      if (Date.now() - this.lastMessageMs < limitMs) return;
      this.log.info({ silentMs: Date.now() - this.lastMessageMs }, 'twilio stream went silent');
      void this.hangUp('client-gone');
    }, limitMs / 2);
    this.activityTimer.unref();
  }

  private onMessage(data: Uint8Array, isBinary: boolean): void {
    this.lastMessageMs = Date.now();
    if (isBinary || data.byteLength > this.deps.config.server.maxFrameBytes) {
      this.log.warn({ bytes: data.byteLength, isBinary }, 'twilio frame ignored');
      return;
    }
    const parsed = parseTwilioMessage(textDecoder.decode(data));
    if (!parsed.ok) {
      this.log.debug({ reason: parsed.reason }, 'bad twilio message ignored');
      return;
    }
    const message = parsed.message;
    try {
      switch (message.event) {
        case 'connected':
          return;
        case 'start':
          this.start(message.start);
          return;
        case 'media':
          // Only the caller's audio is transcribed; `outbound` would be our own voice.
          if (message.track === 'inbound' && message.payload.byteLength > 0) {
            this.session?.pushAudio(message.payload, {
              seq: message.chunk > 0 ? message.chunk - 1 : undefined,
              timestampMs: message.timestampMs,
            });
          }
          return;
        case 'mark':
          this.onMark(message.name);
          return;
        case 'dtmf':
          this.log.debug({ digit: message.digit }, 'twilio dtmf');
          return;
        case 'stop':
          void this.endSession('twilio-stop').then(
            () => this.socket.isOpen && this.socket.close(1000, 'stream stopped'),
          );
          return;
      }
    } catch (err) {
      // A throw from the session must not take the process down: the call goes on.
      this.log.warn({ err, event: message.event }, 'twilio message failed');
    }
  }

  private start(start: TwilioStart): void {
    if (this.session) {
      this.log.debug({ streamSid: start.streamSid }, 'second twilio start ignored');
      return;
    }
    const { config } = this.deps;
    const params = start.customParameters;
    this.streamSid = start.streamSid;
    if (
      config.server.authRequired &&
      this.headerAuth !== 'ok' &&
      !isValidKey(params.apiKey, config.server.apiKeys)
    ) {
      return this.refuse('unauthorized', 'twilio stream without a valid apiKey parameter');
    }
    if (start.mediaFormat.encoding !== 'audio/x-mulaw' || start.mediaFormat.sampleRate !== 8000) {
      return this.refuse(
        'bad-format',
        'twilio media format is not mu-law 8 kHz',
        start.mediaFormat,
      );
    }
    const engines = this.deps.engines();
    if (!engines) return this.refuse('not-ready', 'twilio call while models load');
    if (this.deps.registry && !this.deps.registry.hasRoom())
      return this.refuse('session-limit', 'twilio call over the session limit');

    const wanted =
      params.mode === 'agent' || params.mode === 'transcribe' ? params.mode : config.session.mode;
    const mode: SessionMode =
      wanted === 'agent' && engines.llm && engines.tts ? 'agent' : 'transcribe';
    const message = startMessage(start, mode);
    const sink: SessionSink = {
      event: (event) => this.onEvent(event),
      audio: (frame) =>
        this.onAgentAudio(frame.responseId, frame.payload, frame.timestampMs + frame.durationMs),
    };
    try {
      this.session = this.deps.createSession(message, {
        config,
        engines,
        log: this.log,
        sink,
        emotion: this.deps.emotion,
      });
    } catch (err) {
      this.log.warn(
        { err, code: isUndertoneError(err) ? err.code : undefined },
        'twilio session could not start',
      );
      return this.refuse('session-failed', 'twilio session could not start');
    }
    this.log = this.log.child({ sessionId: this.session.id, streamSid: start.streamSid });
    this.info = {
      streamSid: start.streamSid,
      callSid: start.callSid,
      sessionId: this.session.id,
      mode: this.session.mode,
    };
    this.deps.registry?.add(this.session, message, {
      onDurationLimit: () => void this.hangUp('duration-limit'),
    });
    if (config.session.transcriptSinkDir)
      this.sink = new TranscriptSink(config.session.transcriptSinkDir, this.session.id, this.log);
    else if (this.session.mode === 'transcribe' && !this.deps.onEvent)
      // Twilio's protocol has no message for transcripts: without a sink they go nowhere.
      this.log.warn(
        { sessionId: this.session.id },
        'twilio transcribe call without session.transcriptSinkDir: transcripts are not kept',
      );
    const early = this.early ?? [];
    this.early = undefined;
    for (const event of early) this.deliver(event);
    this.log.info(
      {
        sessionId: this.session.id,
        streamSid: start.streamSid,
        callSid: start.callSid,
        mode: this.session.mode,
      },
      'twilio call started',
    );
  }

  private onEvent(event: ServerEvent): void {
    if (event.type === 'response.cancelled') {
      // Whatever Twilio still holds of this response must not play; its marks come back at once
      // after a clear and say nothing about what was heard.
      this.cancelled.add(event.responseId);
      if (this.cancelled.size > 64) this.cancelled.delete(this.cancelled.values().next().value!);
      this.send(clearMessage(this.streamSid));
    } else if (event.type === 'response.done') {
      const sent = this.sent.get(event.responseId);
      if (sent && sent.endMs > sent.markedMs) this.mark(event.responseId, sent);
    } else if (event.type === 'error') {
      this.log.warn({ code: event.code, recoverable: event.recoverable }, 'twilio session error');
      if (!event.recoverable) void this.hangUp('error');
    }
    if (this.early) this.early.push(event);
    else this.deliver(event);
  }

  private deliver(event: ServerEvent): void {
    this.sink?.write(event);
    if (this.info) this.deps.onEvent?.(this.info, event);
  }

  private onAgentAudio(responseId: string, payload: Uint8Array, endMs: number): void {
    if (this.cancelled.has(responseId)) return;
    this.send(mediaMessage(this.streamSid, payload));
    let sent = this.sent.get(responseId);
    if (!sent) {
      sent = { endMs, markedMs: 0 };
      this.sent.set(responseId, sent);
      if (this.sent.size > 64) this.sent.delete(this.sent.keys().next().value!);
    }
    sent.endMs = Math.max(sent.endMs, endMs);
    if (sent.endMs - sent.markedMs >= MARK_EVERY_MS) this.mark(responseId, sent);
  }

  private mark(responseId: string, sent: { endMs: number; markedMs: number }): void {
    sent.markedMs = sent.endMs;
    this.send(markMessage(this.streamSid, markName(responseId, sent.endMs)));
  }

  private onMark(name: string): void {
    const mark = parseMarkName(name);
    if (!mark || !this.session || this.cancelled.has(mark.responseId)) return;
    this.session.handleMessage({
      type: 'playback.position',
      responseId: mark.responseId,
      playedMs: mark.playedMs,
    });
  }

  private send(text: string): void {
    if (this.socket.isOpen) this.socket.sendText(text);
  }

  private refuse(reason: string, message: string, detail?: unknown): void {
    this.log.warn({ reason, streamSid: this.streamSid, detail }, message);
    this.socket.close(1008, reason);
  }

  private endSession(reason: string): Promise<void> {
    const session = this.session;
    if (!session) return Promise.resolve();
    this.ending ??= (async () => {
      await this.deps.registry?.end(session.id, reason);
      // Idempotent: after the registry (or a shutdown) ended it, this is the same promise.
      await session.end(reason);
      await this.sink?.close();
    })().catch((err: unknown) => this.log.warn({ err }, 'twilio session end failed'));
    return this.ending;
  }
}

/** The voice-protocol start message of a Twilio call. */
export function startMessage(start: TwilioStart, mode: SessionMode): SessionStartMessage {
  const { mode: _mode, apiKey: _key, emotion, ...rest } = start.customParameters;
  return {
    type: 'session.start',
    version: PROTOCOL_VERSION,
    mode,
    audio: { codec: 'mulaw', sampleRateHz: 8000, channels: 1, frameMs: 20 },
    output: { codec: 'mulaw', sampleRateHz: 8000 },
    channelRoles: ['customer'],
    ...(emotion === 'off' ? { emotion: { enabled: false } } : {}),
    metadata: {
      transport: 'twilio',
      streamSid: start.streamSid,
      ...(start.callSid ? { callSid: start.callSid } : {}),
      ...rest,
    },
  };
}
