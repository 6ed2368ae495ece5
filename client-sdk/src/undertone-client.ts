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
 * emitted. That connection lifecycle lives in `connection-manager.ts`; this class is the facade.
 */
import {
  CLOSE_CODES,
  FRAME_KIND,
  decodeFrame,
  type ClientMessage,
  type ServerEvent,
  type SessionEndedEvent,
  type SessionStartMessage,
  type SessionStartedEvent,
  type SessionUpdateMessage,
} from '../../src/protocol/index.js';
import { AudioOutbox, type AudioOutboxOptions } from './audio-outbox.js';
import type { ClientEventMap } from './client-events.js';
import { ClockSync, type ClockEstimate } from './clock-sync.js';
import {
  ConnectionManager,
  type ConnectionOptions,
  type ReconnectOptions,
  type StartOptions,
} from './connection-manager.js';
import { CLIENT_ERROR_CODES, UndertoneClientError } from './errors.js';
import { TurnLatencyTracker } from './turn-latency.js';
import { TypedEmitter } from './typed-emitter.js';

export type { ReconnectOptions, StartOptions };

/** Options of `UndertoneClient`; the connection ones are described in `ConnectionOptions`. */
export interface UndertoneClientOptions extends ConnectionOptions {
  /** Interval of `ping` messages for the clock estimate, in ms; 0 turns them off. Default 5000. */
  pingIntervalMs?: number;
  outbox?: AudioOutboxOptions;
  /** Client clock in ms (epoch based); defaults to `performance.timeOrigin + performance.now()`. */
  now?: () => number;
}

/** Where the client is in its life; `reconnecting` while a dropped socket is being resumed. */
export type ClientState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'ending' | 'closed';

/** Per-frame options of `sendAudio`. */
export interface SendAudioOptions {
  /** Duration of the frame, in ms; defaults to the session's `frameMs`. */
  durationMs?: number;
  /** Client clock when the frame's first sample was captured, in ms; defaults to now. */
  captureTimeMs?: number;
}

/** One voice session over one WebSocket; see the module comment for what survives a drop. */
export class UndertoneClient extends TypedEmitter<ClientEventMap> {
  private readonly pingIntervalMs: number;
  private readonly clientNow: () => number;
  private readonly connection: ConnectionManager;
  private readonly outbox: AudioOutbox;
  private readonly clockSync = new ClockSync(8);
  private readonly latency = new TurnLatencyTracker();
  private startOptions: StartOptions | undefined;
  private currentState: ClientState = 'idle';
  private started: SessionStartedEvent | undefined;
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
    this.pingIntervalMs = options.pingIntervalMs ?? 5000;
    this.clientNow = options.now ?? (() => performance.timeOrigin + performance.now());
    this.connection = new ConnectionManager(
      options,
      {
        startOptions: () => this.startOptions!,
        isClosed: () => this.isClosed(),
        onEvent: (event) => this.handleEvent(event),
        onBinary: (bytes) => this.handleBinary(bytes),
        onDrop: (code, reason) => this.handleDrop(code, reason),
        onReconnecting: (attempt, delayMs) => this.emit('reconnecting', { attempt, delayMs }),
        onReconnected: (started) => this.goLive(started),
        onGiveUp: (code, reason) => this.finish(code, reason),
      },
      this.stats,
    );
    this.outbox = new AudioOutbox((frame) => this.connection.send(frame), options.outbox);
  }

  /** The client's current state. */
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
    return this.clientNow();
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
      const started = await this.connection.connect(false);
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

  /** Changes session settings mid-call (`session.update`). */
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
  // Connection events
  // -------------------------------------------------------------------------------------------

  /** A session.started arrived on a new socket: go live, flush the backlog, start pinging. */
  private goLive(started: SessionStartedEvent): void {
    const previous = this.started;
    this.started = started;
    const refusal = this.connection.adopt(started, previous !== undefined && !started.resumed);
    this.currentState = this.currentState === 'ending' ? 'ending' : 'live';
    this.emit('session.started', started);
    this.emit('event', started);

    if (previous && started.resumed) {
      this.stats.resumes++;
      this.emit('resumed', started);
    } else if (previous) {
      // A new session replaced the old one: its clock and numbering start over.
      this.stats.resumeFailures++;
      this.streamToResponse.clear();
      this.lastResponseId = undefined;
      this.latency.reset();
      this.outbox.rebase();
      for (const f of this.outbox.pending())
        this.latency.recordCapture(f.mediaTimeMs, f.captureTimeMs);
      const reason = started.resumeFailed ?? refusal ?? 'server did not resume the session';
      this.emit('resume-failed', {
        reason,
        previousSessionId: previous.sessionId,
        session: started,
      });
    }

    this.outbox.flush();
    this.startPinging();
  }

  /** The live socket dropped: resume unless the session is over or the close code is final. */
  private handleDrop(code: number, reason: string): void {
    this.stopPinging();
    this.outbox.pause();
    const canResume =
      this.connection.mayResume(code) &&
      !this.sessionEnded &&
      this.currentState !== 'ending' &&
      this.currentState !== 'closed';
    this.emit('disconnected', { code, reason, willReconnect: canResume });
    if (!canResume) {
      this.finish(code, this.sessionEnded ? 'session ended' : reason || 'connection closed');
      return;
    }
    this.currentState = 'reconnecting';
    this.connection.scheduleReconnect(code);
  }

  private finish(code: number, reason: string): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.stopPinging();
    this.outbox.discard();
    this.connection.stop(reason);
    this.emit('closed', { code, reason });
  }

  // -------------------------------------------------------------------------------------------
  // Incoming
  // -------------------------------------------------------------------------------------------

  /** A server event after `session.started`, replays already removed by the connection. */
  private handleEvent(event: ServerEvent): void {
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
    if (this.pingIntervalMs <= 0) return;
    this.ping();
    this.pingTimer = setInterval(() => this.ping(), this.pingIntervalMs);
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
    return this.connection.isOpen();
  }

  private isLive(): boolean {
    return (this.currentState === 'live' || this.currentState === 'ending') && this.isOpen();
  }

  /** Control messages are dropped while disconnected: they describe a moment that has passed. */
  private sendControl(message: Exclude<ClientMessage, SessionStartMessage>): void {
    if (this.isLive()) this.sendRaw(JSON.stringify(message));
  }

  private sendRaw(data: string | Uint8Array): boolean {
    return this.connection.send(data);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
