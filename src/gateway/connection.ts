/**
 * One WebSocket connection of the voice protocol: the reading half and the state machine.
 *
 * The first message must be `session.start`; anything else before it is answered with
 * `UT_ERR_SESSION_NOT_STARTED` and the connection keeps waiting. After it, binary frames go to
 * `session.pushAudio` and JSON messages to `session.handleMessage`. Bad input becomes a coded,
 * recoverable error event; only auth failures and limits close the socket.
 */
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import { isUndertoneError } from '../errors/undertone-error.js';
import { ERROR_CODES, type ErrorCode } from '../protocol/error-codes.js';
import { decodeFrame, FRAME_KIND } from '../protocol/frame-header.js';
import {
  CLOSE_CODES,
  type ClientMessage,
  type ServerEvent,
  type SessionStartedEvent,
  type SessionStartMessage,
} from '../protocol/messages.js';
import { parseClientMessage } from '../protocol/validate.js';
import type { CreateSession, Engines, SessionSink, VoiceSession } from '../pipeline/types.js';
import { isValidKey, type AuthPolicy } from './auth.js';
import { ConnectionWriter } from './connection-writer.js';
import { logSessionError, sendError, type ErrorTarget } from './error-events.js';
import {
  logConnected,
  logConnectionClosed,
  logDeadPeer,
  logRejected,
  logSessionResumed,
  logSessionStarted,
} from './lifecycle-log.js';
import type { SessionOwner, SessionRegistry } from './session-registry.js';
import type { SocketHandlers, TransportSocket, UpgradeRequest } from './transport.js';
import type { HeaderAuth } from './auth.js';
import type { EmotionObserverFactory } from '../pipeline/stage-ports.js';

/** What every connection of a server shares. */
export interface GatewayContext {
  config: UndertoneConfig;
  log: Logger;
  registry: SessionRegistry;
  createSession: CreateSession;
  auth: AuthPolicy;
  /** The engines, or undefined while they are still loading. */
  engines(): Engines | undefined;
  /** The emotion stage shared by sessions; absent = no emotion events. */
  emotion?: EmotionObserverFactory;
}

type State = 'awaiting-start' | 'active' | 'ending' | 'closed';

let nextConnection = 0;
const textDecoder = new TextDecoder();

export class Connection implements SessionOwner, ErrorTarget {
  readonly id = `c${(++nextConnection).toString(36)}`;
  log: Logger;
  private state: State = 'awaiting-start';
  private session?: VoiceSession;
  private authorized: boolean;
  private resumeFailed?: string;
  /** The session's own `session.started`, kept by the registry for a later resume. */
  private firstStarted?: SessionStartedEvent;
  private latestTimeMs = 0;
  private alive = true;
  private lastSeenMs = Date.now();
  private readonly openedAtMs = Date.now();
  private readonly writer: ConnectionWriter;
  private readonly pingTimer: NodeJS.Timeout;
  private markClosed!: () => void;
  /** Resolves once the socket has closed. */
  readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));

  /** Output of the session, routed to this socket. Swapped out by the session on detach. */
  private readonly sink: SessionSink = {
    event: (event, eventIndex) => this.forward(event, eventIndex),
    audio: (frame) => void this.writer.sendAudio(frame),
  };

  constructor(
    private readonly socket: TransportSocket,
    request: UpgradeRequest,
    headerAuth: HeaderAuth,
    private readonly ctx: GatewayContext,
  ) {
    this.log = ctx.log.child({ connId: this.id });
    this.authorized = headerAuth === 'open' || headerAuth === 'ok';
    this.writer = new ConnectionWriter(socket, {
      maxQueuedFrames: ctx.config.server.maxQueuedFrames,
      onOverflow: () =>
        sendError(
          this,
          ERROR_CODES.queueOverflow,
          'client is not reading; agent audio dropped',
          true,
        ),
    });
    this.pingTimer = setInterval(() => this.keepalive(), ctx.config.server.pingIntervalMs);
    this.pingTimer.unref();
    logConnected(ctx.log, {
      connId: this.id,
      remoteAddress: request.remoteAddress,
      path: request.path,
    });

    if (headerAuth === 'bad') {
      this.reject(ERROR_CODES.unauthorized, 'invalid API key', CLOSE_CODES.unauthorized);
    }
  }

  get sessionId(): string {
    return this.session?.id ?? '';
  }

  get timeMs(): number {
    return this.latestTimeMs;
  }

  /** The transport callbacks of this connection. */
  handlers(): SocketHandlers {
    return {
      onMessage: (data, isBinary) => this.onMessage(data, isBinary),
      onPong: () => this.markAlive(),
      onClose: (code, reason) => this.onClose(code, reason),
    };
  }

  /** Sends one event to the client without recording it (errors go through `sendError`). */
  send(event: ServerEvent): void {
    this.writer.sendEvent(event);
  }

  onDurationLimit(): void {
    if (this.state !== 'active') return;
    const limitS = this.ctx.config.server.maxSessionDurationS;
    sendError(this, ERROR_CODES.durationLimit, `session reached the ${limitS} s limit`, false);
    void this.endSession('duration-limit', CLOSE_CODES.durationLimit, 'duration limit');
  }

  /** Drops the socket without a handshake, for a shutdown that waited long enough. */
  terminate(): void {
    this.socket.terminate();
  }

  /** Ends the session (if any) and closes the socket, for server shutdown. */
  async shutdown(): Promise<void> {
    if (this.state === 'active') {
      await this.endSession('server-shutdown', CLOSE_CODES.goingAway, 'server shutting down');
    } else if (this.state === 'awaiting-start') {
      this.state = 'ending';
      this.socket.close(CLOSE_CODES.goingAway, 'server shutting down');
    }
  }

  private onMessage(data: Uint8Array, isBinary: boolean): void {
    if (this.state === 'ending' || this.state === 'closed') return;
    this.markAlive();

    const maxBytes = this.ctx.config.server.maxFrameBytes;
    if (data.byteLength > maxBytes) {
      const detail = `frame of ${data.byteLength} bytes is over the ${maxBytes}-byte limit`;
      sendError(this, ERROR_CODES.frameTooLarge, detail, true);
      return;
    }

    if (isBinary) this.onAudioFrame(data);
    else this.onText(textDecoder.decode(data));
  }

  private onAudioFrame(data: Uint8Array): void {
    if (this.state !== 'active' || !this.session) {
      sendError(this, ERROR_CODES.notStarted, 'send session.start before audio', true);
      return;
    }

    const decoded = decodeFrame(data);
    if (!decoded.ok) {
      sendError(this, ERROR_CODES.badFrameHeader, `bad frame header: ${decoded.reason}`, true);
      return;
    }
    const { frame } = decoded;
    if (frame.kind !== FRAME_KIND.callerAudio) {
      sendError(this, ERROR_CODES.badFrameHeader, 'bad frame header: clients send kind 1', true);
      return;
    }

    this.guard(() =>
      this.session!.pushAudio(frame.payload, { seq: frame.seq, timestampMs: frame.timestampMs }),
    );
  }

  private onText(text: string): void {
    const parsed = parseClientMessage(text, { defaultMode: this.ctx.config.session.mode });
    if (!parsed.ok) {
      sendError(this, parsed.code, parsed.message, true);
      return;
    }

    const message = parsed.message;
    if (message.type === 'session.start') {
      if (this.state === 'active') {
        sendError(this, ERROR_CODES.alreadyStarted, 'the session has already started', true);
      } else {
        this.start(message);
      }
      return;
    }

    if (this.state !== 'active' || !this.session) {
      sendError(this, ERROR_CODES.notStarted, `send session.start before ${message.type}`, true);
      return;
    }
    if (message.type === 'session.end') {
      void this.endSession(message.reason ?? 'client-ended', CLOSE_CODES.normal, 'session ended');
      return;
    }
    this.guard(() =>
      this.session!.handleMessage(message as Exclude<ClientMessage, SessionStartMessage>),
    );
  }

  private start(message: SessionStartMessage): void {
    if (!this.authorized) {
      if (!isValidKey(message.apiKey, this.ctx.auth.keys)) {
        this.reject(
          ERROR_CODES.unauthorized,
          'missing or invalid API key',
          CLOSE_CODES.unauthorized,
        );
        return;
      }
      this.authorized = true;
    }

    const engines = this.ctx.engines();
    if (!engines) {
      sendError(this, ERROR_CODES.overloaded, 'models are still loading; retry shortly', true);
      return;
    }

    if (message.resumeToken !== undefined) {
      const claimed = this.ctx.registry.claim(message.resumeToken, message, this);
      if (!('failed' in claimed)) {
        // The client knows best what it received; without its word, replay what was emitted
        // after the drop was noticed.
        const replayAfter = message.lastEventIndex ?? claimed.detachedAtIndex;
        this.resume(claimed.session, claimed.startedEvent, replayAfter, claimed.detachedMs);
        return;
      }
      this.resumeFailed = claimed.failed;
    }

    if (!this.ctx.registry.hasRoom()) {
      const limit = this.ctx.config.server.maxSessions;
      this.reject(
        ERROR_CODES.sessionLimit,
        `the server holds its limit of ${limit} sessions`,
        CLOSE_CODES.sessionLimit,
      );
      return;
    }

    let session: VoiceSession;
    try {
      session = this.ctx.createSession(message, {
        config: this.ctx.config,
        engines,
        log: this.log,
        sink: this.sink,
        emotion: this.ctx.emotion,
      });
    } catch (err) {
      this.log.warn({ err }, 'session could not start');
      const code = isUndertoneError(err) ? (err.code as ErrorCode) : ERROR_CODES.internal;
      sendError(this, code, isUndertoneError(err) ? err.message : 'session could not start', true);
      return;
    }

    this.session = session;
    this.log = this.ctx.log.child({ connId: this.id, sessionId: session.id });
    this.state = 'active';
    this.ctx.registry.add(session, message, this);
    if (this.firstStarted) this.ctx.registry.rememberStarted(session.id, this.firstStarted);
    logSessionStarted(this.ctx.log, {
      connId: this.id,
      sessionId: session.id,
      mode: session.mode,
      codec: message.audio.codec,
      sampleRateHz: message.audio.sampleRateHz,
    });
  }

  private resume(
    session: VoiceSession,
    started: SessionStartedEvent | undefined,
    replayAfterIndex: number,
    detachedMs: number,
  ): void {
    this.session = session;
    this.log = this.ctx.log.child({ connId: this.id, sessionId: session.id });
    this.state = 'active';
    if (started) {
      this.latestTimeMs = started.timeMs;
      const { resumeFailed: _dropped, ...rest } = started;
      this.writer.sendEvent({ ...rest, resumed: true });
    }
    // The session replays, through this sink, the events after `replayAfterIndex`.
    session.attach(this.sink, replayAfterIndex);
    logSessionResumed(this.ctx.log, {
      connId: this.id,
      sessionId: session.id,
      detachedMs,
      replayAfterIndex,
    });
  }

  /**
   * Every event of the session passes here on its way to the client, stamped with its index so
   * a resuming client can say where it stopped. The session counts its own error events.
   */
  private forward(event: ServerEvent, eventIndex?: number): void {
    this.latestTimeMs = event.timeMs;

    if (event.type === 'session.started' && !event.resumed) {
      if (!this.firstStarted) {
        this.firstStarted = event;
        if (this.session) this.ctx.registry.rememberStarted(this.session.id, event);
      }
      if (this.resumeFailed !== undefined && event.resumeFailed === undefined) {
        event = { ...event, resumeFailed: this.resumeFailed };
      }
    }
    if (event.type === 'error') {
      logSessionError(event, this.log);
      // A session that cannot go on is ended and closed, so it does not hold its slot.
      if (!event.recoverable && this.state === 'active') {
        queueMicrotask(() => void this.endSession('error', CLOSE_CODES.internal, 'session failed'));
      }
    }

    this.writer.sendEvent(eventIndex === undefined ? event : { ...event, eventIndex });
  }

  private async endSession(reason: string, closeCode: number, closeReason: string): Promise<void> {
    const session = this.session;
    if (this.state !== 'active' || !session) return;
    this.state = 'ending';

    // The session emits `session.ended` through the sink while it ends.
    await this.ctx.registry.end(session.id, reason);
    this.socket.close(closeCode, closeReason);
  }

  private reject(code: ErrorCode, message: string, closeCode: number): void {
    sendError(this, code, message, false);
    logRejected(this.ctx.log, { connId: this.id, code, closeCode });
    this.state = 'ending';
    this.socket.close(closeCode, code);
  }

  /** Runs a call into the session; a throw becomes an error event, never a lost process. */
  private guard(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.warn({ err }, 'session call failed');
      if (isUndertoneError(err))
        sendError(this, err.code as ErrorCode, err.message, err.recoverable);
      else sendError(this, ERROR_CODES.internal, 'internal error', true);
    }
  }

  private markAlive(): void {
    this.alive = true;
    this.lastSeenMs = Date.now();
  }

  private keepalive(): void {
    if (!this.alive) {
      logDeadPeer(this.ctx.log, {
        connId: this.id,
        sessionId: this.session?.id,
        silentMs: Date.now() - this.lastSeenMs,
      });
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  private onClose(code: number, reason: string): void {
    clearInterval(this.pingTimer);
    const was = this.state;
    this.state = 'closed';

    // A drop without `session.end` keeps the session for a resume.
    if (was === 'active' && this.session) this.ctx.registry.release(this.session.id, 'client-gone');
    logConnectionClosed(this.ctx.log, {
      connId: this.id,
      sessionId: this.session?.id,
      code,
      reason,
      durationMs: Date.now() - this.openedAtMs,
    });
    this.markClosed();
  }
}
