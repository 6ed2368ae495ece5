/**
 * Every lifecycle line of the gateway (connect, start, detach, resume, end, close) is written
 * here, with durations, so that operators and tests find them in one place. Messages are short
 * constants; the data is in fields.
 */
import type { Logger } from 'pino';
import type { SessionEndedEvent } from '../protocol/messages.js';

export const LIFECYCLE_MESSAGES = {
  connected: 'connection opened',
  started: 'session started',
  resumed: 'session resumed',
  detached: 'session detached',
  ended: 'session ended',
  closed: 'connection closed',
  deadPeer: 'connection dead',
  rejected: 'connection rejected',
} as const;

export function logConnected(
  log: Logger,
  data: { connId: string; remoteAddress: string; path: string },
): void {
  log.info(data, LIFECYCLE_MESSAGES.connected);
}

export function logSessionStarted(
  log: Logger,
  data: { connId: string; sessionId: string; mode: string; codec: string; sampleRateHz: number },
): void {
  log.info(data, LIFECYCLE_MESSAGES.started);
}

export function logSessionResumed(
  log: Logger,
  data: { connId: string; sessionId: string; detachedMs: number; replayAfterIndex: number },
): void {
  log.info(data, LIFECYCLE_MESSAGES.resumed);
}

export function logSessionDetached(
  log: Logger,
  data: { sessionId: string; graceMs: number },
): void {
  log.info(data, LIFECYCLE_MESSAGES.detached);
}

export function logSessionEnded(
  log: Logger,
  data: {
    sessionId: string;
    reason: string;
    durationMs: number;
    stats?: SessionEndedEvent['stats'];
  },
): void {
  log.info(data, LIFECYCLE_MESSAGES.ended);
}

export function logConnectionClosed(
  log: Logger,
  data: { connId: string; sessionId?: string; code: number; reason: string; durationMs: number },
): void {
  log.info(data, LIFECYCLE_MESSAGES.closed);
}

export function logDeadPeer(
  log: Logger,
  data: { connId: string; sessionId?: string; silentMs: number },
): void {
  log.info(data, LIFECYCLE_MESSAGES.deadPeer);
}

export function logRejected(
  log: Logger,
  data: { connId: string; code: string; closeCode: number },
): void {
  log.info(data, LIFECYCLE_MESSAGES.rejected);
}
