/**
 * Every session of the process, attached to a connection or detached and waiting for its client
 * to resume. Enforces `server.maxSessions` and `server.maxSessionDurationS`, keeps a dropped
 * session for `server.resumeGraceMs`. The session gauges are the session's own
 * (`pipeline/session.ts`), so sessions made by other transports count too.
 */
import type { Logger } from 'pino';
import type {
  SessionEndedEvent,
  SessionStartedEvent,
  SessionStartMessage,
} from '../protocol/messages.js';
import type { VoiceSession } from '../pipeline/types.js';
import { logSessionDetached, logSessionEnded } from './lifecycle-log.js';

/** The connection currently holding a session. */
export interface SessionOwner {
  /** The session ran into `maxSessionDurationS`; the owner tells its client and ends it. */
  onDurationLimit(): void;
}

export interface SessionRegistryOptions {
  maxSessions: number;
  maxSessionDurationMs: number;
  /** 0 ends a session as soon as its connection drops. */
  resumeGraceMs: number;
  log: Logger;
}

interface Entry {
  session: VoiceSession;
  start: SessionStartMessage;
  owner?: SessionOwner;
  /** The `session.started` the client first saw, re-sent (with `resumed: true`) on resume. */
  startedEvent?: SessionStartedEvent;
  startedAtMs: number;
  detachedAtMs?: number;
  /** `lastEventIndex` of the session when it was detached. */
  detachedAtIndex?: number;
  graceTimer?: NodeJS.Timeout;
  durationTimer: NodeJS.Timeout;
}

/** A detached session handed to a new connection. */
export interface ClaimedSession {
  session: VoiceSession;
  startedEvent?: SessionStartedEvent;
  detachedMs: number;
  /** Index of the last event emitted before the drop; replay starts after it by default. */
  detachedAtIndex: number;
}

export class SessionRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly byToken = new Map<string, string>();

  constructor(private readonly options: SessionRegistryOptions) {}

  /** Sessions held, detached ones included. */
  get size(): number {
    return this.entries.size;
  }

  /** True while another session may start. */
  hasRoom(): boolean {
    return this.entries.size < this.options.maxSessions;
  }

  add(session: VoiceSession, start: SessionStartMessage, owner: SessionOwner): void {
    const durationTimer = setTimeout(
      () => this.onDurationLimit(session.id),
      this.options.maxSessionDurationMs,
    );
    durationTimer.unref();
    this.entries.set(session.id, { session, start, owner, startedAtMs: Date.now(), durationTimer });
    this.byToken.set(session.resumeToken, session.id);
  }

  /** Remembers the first `session.started` of a session, for resume. */
  rememberStarted(sessionId: string, event: SessionStartedEvent): void {
    const entry = this.entries.get(sessionId);
    if (entry && !entry.startedEvent) entry.startedEvent = event;
  }

  /**
   * The connection of a session dropped without `session.end`. The session is detached and kept
   * for the resume grace, or ended at once when resume is off.
   */
  release(sessionId: string, reason: string): void {
    const entry = this.entries.get(sessionId);
    if (!entry || !entry.owner) return;
    entry.owner = undefined;

    if (this.options.resumeGraceMs === 0) {
      void this.end(sessionId, reason);
      return;
    }

    entry.session.detach();
    entry.detachedAtMs = Date.now();
    entry.detachedAtIndex = entry.session.lastEventIndex;
    entry.graceTimer = setTimeout(
      () => void this.end(sessionId, 'resume-timeout'),
      this.options.resumeGraceMs,
    );
    entry.graceTimer.unref();
    logSessionDetached(this.options.log, { sessionId, graceMs: this.options.resumeGraceMs });
  }

  /**
   * Hands the detached session with this resume token to a new owner, or says why it cannot.
   * The new `session.start` must declare the mode and audio format the session started with.
   * The caller attaches its sink to the session.
   */
  claim(
    resumeToken: string,
    start: SessionStartMessage,
    owner: SessionOwner,
  ): ClaimedSession | { failed: string } {
    const sessionId = this.byToken.get(resumeToken);
    const entry = sessionId === undefined ? undefined : this.entries.get(sessionId);
    if (!entry) return { failed: 'unknown or expired resume token' };
    if (entry.owner) return { failed: 'the session is still attached to another connection' };
    if (!sameFormat(entry.start, start)) {
      return { failed: 'the session started with another mode or audio format' };
    }

    clearTimeout(entry.graceTimer);
    entry.graceTimer = undefined;
    entry.owner = owner;
    const detachedMs = Date.now() - (entry.detachedAtMs ?? Date.now());
    const detachedAtIndex = entry.detachedAtIndex ?? entry.session.lastEventIndex;
    entry.detachedAtMs = undefined;
    entry.detachedAtIndex = undefined;
    return {
      session: entry.session,
      startedEvent: entry.startedEvent,
      detachedMs,
      detachedAtIndex,
    };
  }

  /** Ends a session and forgets it. Safe to call twice: the second call returns undefined. */
  async end(sessionId: string, reason: string): Promise<SessionEndedEvent | undefined> {
    const entry = this.entries.get(sessionId);
    if (!entry) return undefined;

    this.entries.delete(sessionId);
    this.byToken.delete(entry.session.resumeToken);
    clearTimeout(entry.graceTimer);
    clearTimeout(entry.durationTimer);

    let ended: SessionEndedEvent | undefined;
    try {
      ended = await entry.session.end(reason);
    } catch (err) {
      this.options.log.error({ err, sessionId }, 'session end failed');
    }
    logSessionEnded(this.options.log, {
      sessionId,
      reason,
      durationMs: Date.now() - entry.startedAtMs,
      stats: ended?.stats,
    });
    return ended;
  }

  /** Ends every session, for shutdown. */
  async endAll(reason: string): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.end(id, reason)));
  }

  private onDurationLimit(sessionId: string): void {
    const entry = this.entries.get(sessionId);
    if (!entry) return;
    if (entry.owner) entry.owner.onDurationLimit();
    else void this.end(sessionId, 'duration-limit');
  }
}

function sameFormat(a: SessionStartMessage, b: SessionStartMessage): boolean {
  return (
    a.mode === b.mode &&
    a.audio.codec === b.audio.codec &&
    a.audio.sampleRateHz === b.audio.sampleRateHz &&
    a.audio.channels === b.audio.channels &&
    a.audio.frameMs === b.audio.frameMs &&
    (a.channelLayout ?? 'mixed') === (b.channelLayout ?? 'mixed')
  );
}
