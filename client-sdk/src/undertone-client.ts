/**
 * The Undertone client: one voice session over one WebSocket, surviving dropped sockets.
 *
 * @example
 * const client = new UndertoneClient({ url: 'ws://127.0.0.1:8080', socketFactory: nodeSocketFactory });
 * client.on('transcript.final', (e) => console.log(e.text));
 * await client.start({ mode: 'agent', audio: { codec: 'opus', sampleRateHz: 48000, channels: 1, frameMs: 20 } });
 * client.sendAudio(opusPacket);
 * await client.end();
 *
 * A dropped socket does not end the call: the client reconnects with exponential backoff and
 * jitter and presents the session's `resumeToken`; audio captured meanwhile waits in a bounded
 * backlog and is sent after the resume; events the server replays are de-duplicated by
 * `eventIndex`. When the server cannot resume, a new session starts clean and `resume-failed` is
 * emitted.
 */
import {
  CLOSE_CODES,
  ERROR_CODES,
  FRAME_KIND,
  PROTOCOL_VERSION,
  decodeFrame,
  type ClientMessage,
  type ErrorEvent,
  type ServerEvent,
  type SessionEndedEvent,
  type SessionStartMessage,
  type SessionStartedEvent,
  type SessionUpdateMessage,
} from '../../src/protocol/index.js';
import { AudioOutbox, type AudioOutboxOptions } from './audio-outbox.js';
import type { ClientEventMap } from './client-events.js';
import { ClockSync, type ClockEstimate } from './clock-sync.js';
import { CLIENT_ERROR_CODES, UndertoneClientError } from './errors.js';
import {
  SOCKET_OPEN,
  globalSocketFactory,
  messageBytes,
  type SocketFactory,
  type SocketLike,
} from './socket.js';
import { TurnLatencyTracker } from './turn-latency.js';
import { TypedEmitter } from './typed-emitter.js';

export interface ReconnectOptions {
  /** Default true. */
  enabled?: boolean;
  /** First delay, doubled per attempt, in ms. Default 250. */
  initialDelayMs?: number;
  /** Longest delay, in ms. Default 5000. */
  maxDelayMs?: number;
  /** Attempts per drop before giving up. Default 20. */
  maxAttempts?: number;
}

export interface UndertoneClientOptions {
  /** WebSocket URL of the server, e.g. `ws://127.0.0.1:8080`. */
  url: string;
  /** Sent as `x-api-key` where the socket can carry headers (Node), else in `session.start`. */
  apiKey?: string;
  /** Defaults to the global `WebSocket`; in Node pass `nodeSocketFactory`. */
  socketFactory?: SocketFactory;
  /** Interval of `ping` messages for the clock estimate, in ms; 0 turns them off. Default 5000. */
  pingIntervalMs?: number;
  reconnect?: ReconnectOptions;
  outbox?: AudioOutboxOptions;
  /** How long `start()` waits for `session.started`, in ms. Default 10000. */
  startTimeoutMs?: number;
  /** Client clock in ms (epoch based); defaults to `performance.timeOrigin + performance.now()`. */
  now?: () => number;
  /** Source of backoff jitter in [0, 1); defaults to `Math.random`. */
  random?: () => number;
}

/**
 * `session.start` fields chosen by the caller; version, key and resume fields are the client's.
 * Without `mode` the server's default mode applies (`session.started.mode` tells which).
 */
export type StartOptions = Omit<
  SessionStartMessage,
  'type' | 'version' | 'apiKey' | 'resumeToken' | 'lastEventIndex' | 'mode'
> & { mode?: SessionStartMessage['mode'] };

export type ClientState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'ending' | 'closed';

export interface SendAudioOptions {
  /** Duration of the frame, in ms; defaults to the session's `frameMs`. */
  durationMs?: number;
  /** Client clock when the frame's first sample was captured, in ms; defaults to now. */
  captureTimeMs?: number;
}

/** Close codes after which resuming makes no sense. */
const FINAL_CLOSE_CODES = new Set<number>([
  CLOSE_CODES.unauthorized,
  CLOSE_CODES.durationLimit,
  CLOSE_CODES.protocolError,
]);

export class UndertoneClient extends TypedEmitter<ClientEventMap> {
  private readonly options: Required<
    Omit<UndertoneClientOptions, 'apiKey' | 'outbox' | 'reconnect'>
  > & {
    apiKey?: string;
    reconnect: Required<ReconnectOptions>;
  };
  private readonly outbox: AudioOutbox;
  private readonly clockSync = new ClockSync(8);
  private readonly latency = new TurnLatencyTracker();
  private socket: SocketLike | undefined;
  private startOptions: StartOptions | undefined;
  private currentState: ClientState = 'idle';
  private started: SessionStartedEvent | undefined;
  private lastEventIndex: number | undefined;
  private resumeToken: string | undefined;
  /** Why the server refused the last resume attempt outright, if it did. */
  private resumeRefusal: string | undefined;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private pingId = 0;
  private readonly pingsSent = new Map<number, number>();
  private readonly streamToResponse = new Map<number, string>();
  private lastResponseId: string | undefined;
  private sessionEnded = false;
  /** Counters for tests and dashboards. */
  readonly stats = { reconnects: 0, resumes: 0, resumeFailures: 0, duplicateEvents: 0 };

  constructor(options: UndertoneClientOptions) {
    super();
    this.options = {
      url: options.url,
      apiKey: options.apiKey,
      socketFactory: options.socketFactory ?? globalSocketFactory,
      pingIntervalMs: options.pingIntervalMs ?? 5000,
      startTimeoutMs: options.startTimeoutMs ?? 10_000,
      now: options.now ?? (() => performance.timeOrigin + performance.now()),
      random: options.random ?? Math.random,
      reconnect: {
        enabled: options.reconnect?.enabled ?? true,
        initialDelayMs: options.reconnect?.initialDelayMs ?? 250,
        maxDelayMs: options.reconnect?.maxDelayMs ?? 5000,
        maxAttempts: options.reconnect?.maxAttempts ?? 20,
      },
    };
    this.outbox = new AudioOutbox((frame) => this.sendRaw(frame), options.outbox);
  }

  get state(): ClientState {
    return this.currentState;
  }

  /** The latest `session.started` (after a failed resume, the new session's). */
  get session(): SessionStartedEvent | undefined {
    return this.started;
  }

  /** Best clock estimate (server minus client), or undefined before the first pong. */
  get clock(): ClockEstimate | undefined {
    return this.clockSync.estimate();
  }

  /** Caller audio waiting to be sent (while disconnected or catching up), in ms. */
  get pendingAudioMs(): number {
    return this.outbox.pendingMs;
  }

  /** The client's clock, in ms. */
  now(): number {
    return this.options.now();
  }

  /**
   * Opens the socket and starts a session. Rejects with `UndertoneClientError`
   * (`UT_CLIENT_CONNECT_FAILED`, `UT_CLIENT_START_REJECTED` or `UT_CLIENT_TIMEOUT`).
   */
  async start(options: StartOptions): Promise<SessionStartedEvent> {
    if (this.currentState !== 'idle') {
      throw new UndertoneClientError(
        CLIENT_ERROR_CODES.badState,
        `start() in state ${this.currentState}`,
      );
    }
    this.startOptions = options;
    this.currentState = 'connecting';
    try {
      const started = await this.connect(false);
      this.goLive(started);
      return started;
    } catch (err) {
      this.finish(CLOSE_CODES.normal, 'start failed');
      throw err;
    }
  }

  /** Sends (or, while disconnected, queues) one encoded frame of caller audio. */
  sendAudio(payload: Uint8Array, options: SendAudioOptions = {}): void {
    if (!this.startOptions || this.currentState === 'closed' || this.sessionEnded) {
      throw new UndertoneClientError(
        CLIENT_ERROR_CODES.badState,
        `sendAudio() in state ${this.currentState}`,
      );
    }
    const durationMs = options.durationMs ?? this.startOptions.audio.frameMs;
    const captureTimeMs = options.captureTimeMs ?? this.now();
    const before = this.outbox.droppedFrames;
    const frame = this.outbox.push(payload, durationMs, captureTimeMs, this.isLive());
    this.latency.recordCapture(frame.mediaTimeMs, captureTimeMs);
    if (this.outbox.droppedFrames > before)
      this.emit('audio.dropped', { frames: this.outbox.droppedFrames - before });
  }

  /** Sends a typed user turn. */
  sendText(text: string): void {
    this.sendControl({ type: 'input.text', text });
  }

  /** Tells the server how much of a response the caller has heard, in ms of agent audio. */
  sendPlaybackPosition(responseId: string, playedMs: number): void {
    this.sendControl({
      type: 'playback.position',
      responseId,
      playedMs: Math.max(0, Math.round(playedMs)),
    });
  }

  /** The player started the first audio of `responseId` at `atMs` (client clock); emits `turn.latency`. */
  markFirstPlayed(responseId: string, atMs = this.now()): void {
    const latency = this.latency.firstPlayed(responseId, atMs);
    if (latency) this.emit('turn.latency', latency);
  }

  update(settings: Omit<SessionUpdateMessage, 'type'>): void {
    this.sendControl({ type: 'session.update', ...settings });
  }

  /** Sends a ping now (the client also pings every `pingIntervalMs`). */
  ping(): void {
    const id = ++this.pingId;
    const clientTimeMs = this.now();
    this.pingsSent.set(id, clientTimeMs);
    if (this.pingsSent.size > 32) this.pingsSent.delete(this.pingsSent.keys().next().value!);
    this.sendControl({ type: 'ping', id, clientTimeMs });
  }

  /**
   * Ends the session: waits until queued audio is out, sends `session.end`, and resolves with
   * `session.ended` (undefined when it does not come within `timeoutMs`). The socket is then closed.
   */
  async end(reason = 'client done', timeoutMs = 15_000): Promise<SessionEndedEvent | undefined> {
    if (this.currentState === 'closed' || this.currentState === 'idle') return undefined;
    if (this.sessionEnded) {
      this.close(CLOSE_CODES.normal, 'session ended');
      return undefined;
    }
    this.currentState = this.currentState === 'live' ? 'ending' : this.currentState;
    const deadline = this.now() + timeoutMs;
    const ended = this.next('session.ended', timeoutMs).catch(() => undefined);

    while (!this.sessionEnded && (!this.isOpen() || this.outbox.pendingFrames > 0)) {
      if (this.now() > deadline || this.isClosed()) break;
      await sleep(20);
    }
    if (!this.sessionEnded && this.isOpen()) this.sendControl({ type: 'session.end', reason });

    const result = await ended;
    this.close(CLOSE_CODES.normal, 'session ended');
    return result;
  }

  /** Closes at once, without `session.end`; no reconnect follows. */
  close(code: number = CLOSE_CODES.normal, reason = 'client closed'): void {
    this.finish(code, reason);
  }

  // -------------------------------------------------------------------------------------------
  // Connection
  // -------------------------------------------------------------------------------------------

  private connect(resume: boolean): Promise<SessionStartedEvent> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let socket: SocketLike;
      const fail = (code: string, message: string, cause?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.socket === socket) this.socket = undefined;
        try {
          socket?.close();
        } catch {
          // already closed
        }
        reject(new UndertoneClientError(code, message, { cause }));
      };
      const timer = setTimeout(
        () =>
          fail(
            CLIENT_ERROR_CODES.timeout,
            `no session.started within ${this.options.startTimeoutMs} ms`,
          ),
        this.options.startTimeoutMs,
      );

      try {
        socket = this.options.socketFactory.open(this.options.url, this.options.apiKey);
      } catch (err) {
        fail(
          CLIENT_ERROR_CODES.connectFailed,
          `cannot open ${this.options.url}: ${describe(err)}`,
          err,
        );
        return;
      }
      socket.binaryType = 'arraybuffer';
      this.socket = socket;

      socket.onopen = () => {
        // `mode` may be absent: the server then applies its default (the validator allows it).
        const start = {
          type: 'session.start',
          version: PROTOCOL_VERSION,
          ...this.startOptions!,
        } as SessionStartMessage;
        if (this.options.apiKey && !this.options.socketFactory.apiKeyInHeader)
          start.apiKey = this.options.apiKey;
        if (resume && this.resumeToken) {
          start.resumeToken = this.resumeToken;
          if (this.lastEventIndex !== undefined) start.lastEventIndex = this.lastEventIndex;
        }
        socket.send(JSON.stringify(start));
      };
      let lastError = '';
      socket.onerror = (event) => {
        // The close event follows; keep the reason (ECONNREFUSED, bad handshake) for the message.
        const e = event as { message?: string; error?: { message?: string } };
        lastError = e.error?.message ?? e.message ?? '';
      };
      socket.onclose = (event) => {
        if (!settled) {
          const why = event.reason || lastError;
          fail(
            CLIENT_ERROR_CODES.connectFailed,
            `connection to ${this.options.url} closed (${event.code}${why ? `: ${why}` : ''})`,
          );
          return;
        }
        if (this.socket === socket) this.handleDrop(event.code, event.reason);
      };
      socket.onmessage = (event) => {
        if (this.socket !== socket) return;
        if (typeof event.data === 'string') {
          const parsed = parseEvent(event.data);
          if (!parsed) return;
          if (!settled && parsed.type === 'session.started') {
            settled = true;
            clearTimeout(timer);
            resolve(parsed);
            return;
          }
          if (!settled && parsed.type === 'error') {
            const e = parsed as ErrorEvent;
            fail(
              e.code === ERROR_CODES.resumeFailed ? e.code : CLIENT_ERROR_CODES.startRejected,
              `${e.code}: ${e.message}`,
              e,
            );
            return;
          }
          if (settled) this.handleEvent(parsed);
          return;
        }
        const bytes = messageBytes(event.data);
        if (bytes && settled) this.handleBinary(bytes);
      };
    });
  }

  /** A session.started arrived on a new socket: go live, flush the backlog, start pinging. */
  private goLive(started: SessionStartedEvent): void {
    const previous = this.started;
    this.started = started;
    this.resumeToken = started.resumeToken;
    this.currentState = this.currentState === 'ending' ? 'ending' : 'live';
    this.attempt = 0;
    this.emit('session.started', started);
    this.emit('event', started);

    if (previous && started.resumed) {
      this.stats.resumes++;
      this.emit('resumed', started);
    } else if (previous) {
      // A new session replaced the old one: its clock and numbering start over.
      this.stats.resumeFailures++;
      this.lastEventIndex = undefined;
      this.streamToResponse.clear();
      this.lastResponseId = undefined;
      this.latency.reset();
      this.outbox.rebase();
      for (const f of this.outbox.pending())
        this.latency.recordCapture(f.mediaTimeMs, f.captureTimeMs);
      const reason =
        started.resumeFailed ?? this.resumeRefusal ?? 'server did not resume the session';
      this.emit('resume-failed', {
        reason,
        previousSessionId: previous.sessionId,
        session: started,
      });
    }
    this.resumeRefusal = undefined;

    this.outbox.flush();
    this.startPinging();
  }

  private handleDrop(code: number, reason: string): void {
    this.stopPinging();
    this.outbox.pause();
    this.socket = undefined;
    const canResume =
      this.options.reconnect.enabled &&
      !this.sessionEnded &&
      this.currentState !== 'ending' &&
      this.currentState !== 'closed' &&
      !FINAL_CLOSE_CODES.has(code);
    this.emit('disconnected', { code, reason, willReconnect: canResume });
    if (!canResume) {
      this.finish(code, this.sessionEnded ? 'session ended' : reason || 'connection closed');
      return;
    }
    this.currentState = 'reconnecting';
    this.scheduleReconnect(code);
  }

  private scheduleReconnect(lastCode: number): void {
    const { initialDelayMs, maxDelayMs, maxAttempts } = this.options.reconnect;
    if (this.attempt >= maxAttempts) {
      this.finish(lastCode, `gave up after ${maxAttempts} reconnect attempts`);
      return;
    }

    // "Equal jitter": half the exponential delay fixed, half random, so clients that dropped
    // together do not come back together.
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempt);
    const delayMs = base / 2 + (this.options.random() * base) / 2;
    this.attempt++;
    this.emit('reconnecting', { attempt: this.attempt, delayMs });

    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.currentState === 'closed') return;
      this.stats.reconnects++;
      this.connect(true).then(
        (started) => this.goLive(started),
        (err: UndertoneClientError) => {
          if (this.currentState === 'closed') return;
          // The server refused the token outright: the next attempt starts a clean session.
          if (err.code === ERROR_CODES.resumeFailed) {
            this.resumeToken = undefined;
            this.resumeRefusal = err.message;
          }
          this.scheduleReconnect(CLOSE_CODES.goingAway);
        },
      );
    }, delayMs);
  }

  private finish(code: number, reason: string): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.stopPinging();
    this.outbox.discard();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    this.socket = undefined;
    try {
      if (socket && socket.readyState <= SOCKET_OPEN)
        socket.close(CLOSE_CODES.normal, reason.slice(0, 120));
    } catch {
      // already closing
    }
    this.emit('closed', { code, reason });
  }

  // -------------------------------------------------------------------------------------------
  // Incoming
  // -------------------------------------------------------------------------------------------

  private handleEvent(event: ServerEvent): void {
    if (event.type === 'session.started') return;

    // Every other event, pongs included, is numbered by the server; a replay may repeat some.
    if (event.eventIndex !== undefined) {
      if (this.lastEventIndex !== undefined && event.eventIndex <= this.lastEventIndex) {
        this.stats.duplicateEvents++;
        return;
      }
      this.lastEventIndex = event.eventIndex;
    }

    switch (event.type) {
      case 'pong':
        this.handlePong(event.id, event.serverTimeMs);
        break;
      case 'vad.speech_stopped':
        this.latency.speechStopped(event.segmentId, event.endMs);
        break;
      case 'response.started':
        this.lastResponseId = event.responseId;
        if (event.stream !== undefined) this.streamToResponse.set(event.stream, event.responseId);
        if (this.streamToResponse.size > 64)
          this.streamToResponse.delete(this.streamToResponse.keys().next().value!);
        this.latency.responseStarted(event.responseId, event.inReplyTo);
        break;
      case 'session.ended':
        this.sessionEnded = true;
        break;
    }

    this.emit(event.type, event as never);
    this.emit('event', event);
  }

  private handleBinary(bytes: Uint8Array): void {
    const decoded = decodeFrame(bytes);
    if (!decoded.ok || decoded.frame.kind !== FRAME_KIND.agentAudio) return;

    const { stream, seq, timestampMs, payload } = decoded.frame;
    const responseId =
      this.streamToResponse.get(stream) ?? this.lastResponseId ?? `stream:${stream}`;
    this.emit('agent.audio', { responseId, stream, seq, timestampMs, payload });
  }

  private handlePong(id: number, serverTimeMs: number): void {
    const sentAt = this.pingsSent.get(id);
    if (sentAt === undefined) return;
    this.pingsSent.delete(id);
    if (!this.clockSync.addSample(sentAt, serverTimeMs, this.now())) return;
    this.emit('clock', this.clockSync.estimate()!);
  }

  // -------------------------------------------------------------------------------------------
  // Outgoing
  // -------------------------------------------------------------------------------------------

  private startPinging(): void {
    this.stopPinging();
    if (this.options.pingIntervalMs <= 0) return;
    this.ping();
    this.pingTimer = setInterval(() => this.ping(), this.options.pingIntervalMs);
    (this.pingTimer as { unref?: () => void }).unref?.();
  }

  private stopPinging(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private isClosed(): boolean {
    return this.currentState === 'closed';
  }

  private isOpen(): boolean {
    return this.socket !== undefined && this.socket.readyState === SOCKET_OPEN;
  }

  private isLive(): boolean {
    return (this.currentState === 'live' || this.currentState === 'ending') && this.isOpen();
  }

  /** Control messages are dropped while disconnected: they describe a moment that has passed. */
  private sendControl(message: Exclude<ClientMessage, SessionStartMessage>): void {
    if (this.isLive()) this.sendRaw(JSON.stringify(message));
  }

  private sendRaw(data: string | Uint8Array): boolean {
    if (!this.isOpen()) return false;
    try {
      this.socket!.send(data);
      return true;
    } catch {
      return false;
    }
  }
}

function parseEvent(text: string): ServerEvent | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { type?: unknown }).type === 'string'
    ) {
      return value as ServerEvent;
    }
  } catch {
    // not JSON: ignored, the server never sends such frames
  }
  return undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
