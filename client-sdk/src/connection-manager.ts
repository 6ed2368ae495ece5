/**
 * The connection lifecycle of one `UndertoneClient`: opening a socket and waiting for
 * `session.started`, reconnecting after a drop with exponential backoff and jitter, resuming with
 * the session's `resumeToken` and `lastEventIndex`, and de-duplicating the events the server
 * replays after a resume. What the client does with a live session (audio, pings, events to the
 * application) stays in `undertone-client.ts`.
 */
import {
  CLOSE_CODES,
  ERROR_CODES,
  PROTOCOL_VERSION,
  type ErrorEvent,
  type ServerEvent,
  type SessionStartMessage,
  type SessionStartedEvent,
} from '../../src/protocol/index.js';
import { CLIENT_ERROR_CODES, UndertoneClientError } from './errors.js';
import {
  SOCKET_OPEN,
  globalSocketFactory,
  messageBytes,
  type SocketFactory,
  type SocketLike,
} from './socket.js';

/** How the client reconnects after a dropped socket. */
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

/** The connection part of `UndertoneClientOptions`. */
export interface ConnectionOptions {
  /** WebSocket URL of the server, e.g. `ws://127.0.0.1:8080`. */
  url: string;
  /** Sent as `x-api-key` where the socket can carry headers (Node), else in `session.start`. */
  apiKey?: string;
  /** Defaults to the global `WebSocket`; in Node pass `nodeSocketFactory`. */
  socketFactory?: SocketFactory;
  reconnect?: ReconnectOptions;
  /** How long `start()` waits for `session.started`, in ms. Default 10000. */
  startTimeoutMs?: number;
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

/** Counters shared with the client's public `stats`. */
export interface ConnectionStats {
  reconnects: number;
  duplicateEvents: number;
}

/** What the connection asks of, and reports to, the client that owns it. */
export interface ConnectionHooks {
  /** The `session.start` fields of the call, sent on every (re)connect. */
  startOptions(): StartOptions;
  /** True once the client is closed: pending reconnects then stop. */
  isClosed(): boolean;
  /** A server event after `session.started`, replays already removed. */
  onEvent(event: ServerEvent): void;
  /** A binary message after `session.started`. */
  onBinary(bytes: Uint8Array): void;
  /** The live socket closed (the connection has already let go of it). */
  onDrop(code: number, reason: string): void;
  /** Reconnect attempt `attempt` starts in `delayMs`. */
  onReconnecting(attempt: number, delayMs: number): void;
  /** A reconnect got `session.started` (resumed or a new session). */
  onReconnected(started: SessionStartedEvent): void;
  /** Every attempt failed: the client should close with `code` and `reason`. */
  onGiveUp(code: number, reason: string): void;
}

/** Close codes after which resuming makes no sense. */
const FINAL_CLOSE_CODES = new Set<number>([
  CLOSE_CODES.unauthorized,
  CLOSE_CODES.durationLimit,
  CLOSE_CODES.protocolError,
]);

/** Opens, resumes and replaces the client's socket; one per client. */
export class ConnectionManager {
  private readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly socketFactory: SocketFactory;
  private readonly startTimeoutMs: number;
  private readonly random: () => number;
  private readonly reconnect: Required<ReconnectOptions>;
  private socket: SocketLike | undefined;
  private lastEventIndex: number | undefined;
  private resumeToken: string | undefined;
  /** Why the server refused the last resume attempt outright, if it did. */
  private resumeRefusal: string | undefined;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    options: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
    private readonly stats: ConnectionStats,
  ) {
    this.url = options.url;
    this.apiKey = options.apiKey;
    this.socketFactory = options.socketFactory ?? globalSocketFactory;
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000;
    this.random = options.random ?? Math.random;
    this.reconnect = {
      enabled: options.reconnect?.enabled ?? true,
      initialDelayMs: options.reconnect?.initialDelayMs ?? 250,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 5000,
      maxAttempts: options.reconnect?.maxAttempts ?? 20,
    };
  }

  /** True while a socket is open. */
  isOpen(): boolean {
    return this.socket !== undefined && this.socket.readyState === SOCKET_OPEN;
  }

  /** Sends on the open socket; false when there is none or the send throws. */
  send(data: string | Uint8Array): boolean {
    if (!this.isOpen()) return false;
    try {
      this.socket!.send(data);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Opens a socket and sends `session.start` (with the resume token and last event index when
   * `resume`); resolves with `session.started`. Rejects with `UndertoneClientError`
   * (`UT_CLIENT_CONNECT_FAILED`, `UT_CLIENT_START_REJECTED`, `UT_CLIENT_TIMEOUT`, or the server's
   * resume-failed code).
   */
  connect(resume: boolean): Promise<SessionStartedEvent> {
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
          fail(CLIENT_ERROR_CODES.timeout, `no session.started within ${this.startTimeoutMs} ms`),
        this.startTimeoutMs,
      );

      try {
        socket = this.socketFactory.open(this.url, this.apiKey);
      } catch (err) {
        fail(CLIENT_ERROR_CODES.connectFailed, `cannot open ${this.url}: ${describe(err)}`, err);
        return;
      }
      socket.binaryType = 'arraybuffer';
      this.socket = socket;

      socket.onopen = () => socket.send(JSON.stringify(this.startMessage(resume)));
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
            `connection to ${this.url} closed (${event.code}${why ? `: ${why}` : ''})`,
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
        if (bytes && settled) this.hooks.onBinary(bytes);
      };
    });
  }

  /**
   * Takes over the session of a `session.started` that just arrived. `replaced`: a new session
   * took the place of the old one, so event numbering starts over. Returns (and forgets) why the
   * server refused the last resume attempt, if it did.
   */
  adopt(started: SessionStartedEvent, replaced: boolean): string | undefined {
    this.resumeToken = started.resumeToken;
    this.attempt = 0;
    if (replaced) this.lastEventIndex = undefined;
    const refusal = this.resumeRefusal;
    this.resumeRefusal = undefined;
    return refusal;
  }

  /** True when a drop with close `code` may be followed by a resume (policy-wise). */
  mayResume(code: number): boolean {
    return this.reconnect.enabled && !FINAL_CLOSE_CODES.has(code);
  }

  /**
   * Schedules the next reconnect attempt with "equal jitter" backoff, or gives up (via
   * `hooks.onGiveUp`) after `maxAttempts`. `lastCode` is the close code reported on giving up.
   */
  scheduleReconnect(lastCode: number): void {
    const { initialDelayMs, maxDelayMs, maxAttempts } = this.reconnect;
    if (this.attempt >= maxAttempts) {
      this.hooks.onGiveUp(lastCode, `gave up after ${maxAttempts} reconnect attempts`);
      return;
    }

    // "Equal jitter": half the exponential delay fixed, half random, so clients that dropped
    // together do not come back together.
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** this.attempt);
    const delayMs = base / 2 + (this.random() * base) / 2;
    this.attempt++;
    this.hooks.onReconnecting(this.attempt, delayMs);

    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.hooks.isClosed()) return;
      this.stats.reconnects++;
      this.connect(true).then(
        (started) => this.hooks.onReconnected(started),
        (err: UndertoneClientError) => {
          if (this.hooks.isClosed()) return;
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

  /** Stops any pending reconnect and closes the socket (if still open) with `reason`. */
  stop(reason: string): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    this.socket = undefined;
    try {
      if (socket && socket.readyState <= SOCKET_OPEN)
        socket.close(CLOSE_CODES.normal, reason.slice(0, 120));
    } catch {
      // already closing
    }
  }

  private startMessage(resume: boolean): SessionStartMessage {
    // `mode` may be absent: the server then applies its default (the validator allows it).
    const start = {
      type: 'session.start',
      version: PROTOCOL_VERSION,
      ...this.hooks.startOptions(),
    } as SessionStartMessage;
    if (this.apiKey && !this.socketFactory.apiKeyInHeader) start.apiKey = this.apiKey;
    if (resume && this.resumeToken) {
      start.resumeToken = this.resumeToken;
      if (this.lastEventIndex !== undefined) start.lastEventIndex = this.lastEventIndex;
    }
    return start;
  }

  private handleDrop(code: number, reason: string): void {
    this.socket = undefined;
    this.hooks.onDrop(code, reason);
  }

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
    this.hooks.onEvent(event);
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
