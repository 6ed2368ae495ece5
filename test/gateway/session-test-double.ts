/**
 * A test double of a voice session (`pipeline/types.ts` `VoiceSession`) for the gateway's tests:
 * it records what the gateway feeds it and answers with a few scripted events, so the gateway's
 * own behaviour can be checked without models. Not a session: no audio is decoded.
 *
 * Scripted behaviour:
 * - emits `session.started` (index 0) when created;
 * - `ping` answers `pong`;
 * - `input.text` with text `burst N` sends N agent audio frames at once;
 * - other `input.text` answers `response.started` and one `response.text.delta` echoing the text;
 * - `end` emits `session.ended` with the frame count.
 */
import type {
  AgentAudioFrame,
  AudioPushMeta,
  CreateSession,
  Engines,
  SessionSink,
  TurnState,
  VoiceSession,
} from '../../src/pipeline/types.js';
import type {
  ClientMessage,
  ServerEvent,
  ServerEventBody,
  SessionEndedEvent,
  SessionStartMessage,
} from '../../src/protocol/messages.js';

let nextId = 0;

export class SessionTestDouble implements VoiceSession {
  readonly id: string;
  readonly mode: 'agent' | 'transcribe';
  readonly resumeToken: string;
  readonly turnState: TurnState = 'listening';
  readonly frames: Array<{ payload: Uint8Array; meta?: AudioPushMeta }> = [];
  readonly messages: ClientMessage[] = [];
  ended = false;
  endReason?: string;
  detachCount = 0;
  private sink: SessionSink | undefined;
  private readonly events: Array<{ index: number; event: ServerEvent }> = [];
  private detachedResolvers: Array<() => void> = [];
  private endedResolvers: Array<() => void> = [];

  constructor(
    readonly start: SessionStartMessage,
    sink: SessionSink,
  ) {
    nextId += 1;
    this.id = `double-${nextId}`;
    this.mode = start.mode;
    this.resumeToken = `token-${nextId}-${Math.random().toString(36).slice(2)}`;
    this.sink = sink;
    this.emit({
      type: 'session.started',
      protocolVersion: 1,
      mode: start.mode,
      resumeToken: this.resumeToken,
      resumed: false,
      tracks: start.channelLayout === 'separate' ? 2 : 1,
      output: { codec: start.audio.codec, sampleRateHz: start.audio.sampleRateHz, frameMs: 20 },
    });
  }

  get lastEventIndex(): number {
    return this.events.length - 1;
  }

  /** Resolves at the next `detach`. */
  whenDetached(): Promise<void> {
    return new Promise((resolve) => this.detachedResolvers.push(resolve));
  }

  /** Resolves once `end` has been called. */
  whenEnded(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => this.endedResolvers.push(resolve));
  }

  /** Emits an event now (to the sink, or only into the replay buffer while detached). */
  emit(body: ServerEventBody): ServerEvent {
    const event = { ...body, sessionId: this.id, timeMs: this.frames.length * 20 } as ServerEvent;
    const index = this.events.length;
    this.events.push({ index, event });
    this.sink?.event(event, index);
    return event;
  }

  pushAudio(payload: Uint8Array, meta?: AudioPushMeta): void {
    this.frames.push({ payload: new Uint8Array(payload), meta });
  }

  handleMessage(message: Exclude<ClientMessage, SessionStartMessage>): void {
    this.messages.push(message);
    if (message.type === 'ping') {
      this.emit({
        type: 'pong',
        id: message.id,
        clientTimeMs: message.clientTimeMs,
        serverTimeMs: Date.now(),
      });
      return;
    }
    if (message.type !== 'input.text') return;

    const burst = /^burst (\d+)$/.exec(message.text);
    if (burst) {
      for (let i = 0; i < Number(burst[1]); i++) this.sink?.audio(agentFrame(i));
      return;
    }
    this.emit({ type: 'response.started', responseId: 'r1', inReplyTo: 'text:1' });
    this.emit({ type: 'response.text.delta', responseId: 'r1', delta: message.text });
  }

  attach(sink: SessionSink, replayAfterEventIndex?: number): void {
    this.sink = sink;
    if (replayAfterEventIndex === undefined) return;
    for (const { index, event } of this.events)
      if (index > replayAfterEventIndex) sink.event(event, index);
  }

  detach(): void {
    this.sink = undefined;
    this.detachCount += 1;
    for (const resolve of this.detachedResolvers.splice(0)) resolve();
  }

  async end(reason: string): Promise<SessionEndedEvent> {
    this.ended = true;
    this.endReason = reason;
    for (const resolve of this.endedResolvers.splice(0)) resolve();
    const bytes = this.frames.reduce((n, f) => n + f.payload.byteLength, 0);
    return this.emit({
      type: 'session.ended',
      reason,
      stats: {
        frames: this.frames.length,
        bytes,
        lostFrames: 0,
        reorderedFrames: 0,
        audioMs: this.frames.length * 20,
        wallMs: 0,
      },
    }) as SessionEndedEvent;
  }
}

function agentFrame(seq: number): AgentAudioFrame {
  return {
    responseId: 'r1',
    stream: 1,
    seq,
    timestampMs: seq * 20,
    durationMs: 20,
    payload: new Uint8Array(320),
  };
}

/** A `CreateSession` that makes doubles and keeps them in `sessions` for assertions. */
export function createSessionTestDoubleFactory(): {
  createSession: CreateSession;
  sessions: SessionTestDouble[];
} {
  const sessions: SessionTestDouble[] = [];
  return {
    sessions,
    createSession: (start, deps) => {
      const session = new SessionTestDouble(start, deps.sink);
      sessions.push(session);
      return session;
    },
  };
}

const unused = (what: string) => (): never => {
  throw new Error(`${what} is not used by the session test double`);
};

/**
 * Engines for a server whose sessions are test doubles: present (so the gateway takes the server
 * as loaded, agent mode included) but never called.
 */
export const unusedEnginesTestDouble: Engines = {
  vad: { createStream: unused('vad'), close: async () => {} },
  asr: { name: 'unused', transcribe: unused('asr'), close: async () => {} },
  llm: {
    name: 'unused',
    generate: unused('llm'),
    countTokens: unused('llm'),
    close: async () => {},
  },
  tts: { name: 'unused', sampleRateHz: 16000, synthesize: unused('tts'), close: async () => {} },
};
