/**
 * The events an `UndertoneClient` emits: every server event under its own `type`, plus events of
 * the client itself (connection state, agent audio, latency at the ear).
 */
import type { ServerEvent, SessionStartedEvent } from '../../src/protocol/index.js';
import type { ClockEstimate } from './clock-sync.js';
import type { TurnLatency } from './turn-latency.js';

/** Each server event type mapped to its event object. */
export type ServerEventMap = { [E in ServerEvent as E['type']]: E };

/** One binary frame of agent audio, still encoded in the session's output codec. */
export interface AgentAudio {
  responseId: string;
  /** Response number from the frame header. */
  stream: number;
  seq: number;
  /** Media time of the frame within its response, in ms. */
  timestampMs: number;
  payload: Uint8Array;
}

export interface ClientEventMap extends ServerEventMap {
  /** Every server event, whatever its type (after de-duplication of replays). */
  event: ServerEvent;
  'agent.audio': AgentAudio;
  /** The socket dropped; `willReconnect` says whether the client tries to resume. */
  disconnected: { code: number; reason: string; willReconnect: boolean };
  /** A reconnect attempt is scheduled after `delayMs`. */
  reconnecting: { attempt: number; delayMs: number };
  /** The session survived a drop: the server resumed it. */
  resumed: SessionStartedEvent;
  /** The server could not resume; a new session started clean in its place. */
  'resume-failed': { reason: string; previousSessionId: string; session: SessionStartedEvent };
  /** The client gave up (or was closed); no more events follow. */
  closed: { code: number; reason: string };
  /** A new clock offset estimate after a pong. */
  clock: ClockEstimate;
  'turn.latency': TurnLatency;
  /** Caller audio dropped because the disconnected backlog was full. */
  'audio.dropped': { frames: number };
}
