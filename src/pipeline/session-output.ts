/**
 * What flows through a session's graph to its one subscriber: events for the outbox, agent audio
 * for the sink, and internal signals between stages (never sent to the client).
 */
import type { ServerEventBody } from '../protocol/messages.js';
import type { VadEvent } from '../vad/types.js';
import type { AgentAudioFrame, TurnState } from './types.js';

/** A track's speech and transcript signals, as the turn pipeline sees them. */
export type TurnSignal =
  | { type: 'vad'; track: number; event: VadEvent; segmentId?: string; speechEndWallMs?: number }
  | {
      type: 'final';
      track: number;
      segmentId: string;
      text: string;
      startMs: number;
      endMs: number;
      /** Wall time (ms) the inbound audio reached the end of the speech. */
      speechEndWallMs: number;
      finalWallMs: number;
    }
  | { type: 'text'; text: string; id: string; wallMs: number }
  | { type: 'playback'; responseId: string; playedMs: number };

export type SessionOutput =
  | { kind: 'event'; body: ServerEventBody; timeMs?: number }
  | { kind: 'audio'; frame: AgentAudioFrame }
  | { kind: 'signal'; signal: TurnSignal }
  | { kind: 'state'; state: TurnState };
