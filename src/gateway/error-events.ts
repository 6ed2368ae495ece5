/**
 * The one path of the error events the gateway raises (bad input, limits, auth): each is counted
 * in `undertone_errors_total{code}` and logged at warn with its code and session id. Error events
 * a session emits are counted by the session's outbox (`pipeline/event-outbox.ts`) and only logged
 * here, so no error is counted twice.
 */
import type { Logger } from 'pino';
import type { ErrorCode } from '../protocol/error-codes.js';
import type { ErrorEvent } from '../protocol/messages.js';
import { metrics } from '../metrics/metrics.js';

/** Counts and logs an error event that is about to be sent. */
export function recordErrorEvent(event: ErrorEvent, log: Logger): void {
  metrics.errorsTotal.inc({ code: event.code });
  logErrorEvent(event, log);
}

/** Logs an error event of a session (already counted by the session). */
export function logSessionError(event: ErrorEvent, log: Logger): void {
  logErrorEvent(event, log);
}

function logErrorEvent(event: ErrorEvent, log: Logger): void {
  log.warn(
    {
      code: event.code,
      sessionId: event.sessionId,
      recoverable: event.recoverable,
      detail: event.message,
    },
    'error event',
  );
}

export interface ErrorTarget {
  /** Empty before the session exists. */
  readonly sessionId: string;
  /** Session audio time of the latest event, in ms; 0 before the session exists. */
  readonly timeMs: number;
  readonly log: Logger;
  send(event: ErrorEvent): void;
}

/** Builds, records and sends an error event raised by the gateway. */
export function sendError(
  target: ErrorTarget,
  code: ErrorCode,
  message: string,
  recoverable: boolean,
): ErrorEvent {
  const event: ErrorEvent = {
    type: 'error',
    sessionId: target.sessionId,
    timeMs: target.timeMs,
    code,
    message,
    recoverable,
  };
  recordErrorEvent(event, target.log);
  target.send(event);
  return event;
}
