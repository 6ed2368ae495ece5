/**
 * The session's one way out: stamps events with `sessionId`, `timeMs` and an index, sends them to
 * the current sink, and keeps the latest ones so a resumed connection gets what it missed.
 * Agent audio is not replayed: it is real time, and stale audio after a reconnect is worse than a
 * gap.
 */
import type { Logger } from 'pino';
import type { ServerEvent, ServerEventBody } from '../protocol/messages.js';
import { metrics } from '../metrics/metrics.js';
import type { AgentAudioFrame, SessionSink } from './types.js';

export class EventOutbox {
  private sink: SessionSink | undefined;
  private readonly buffer: Array<{ index: number; event: ServerEvent }> = [];
  private nextIndex = 0;
  /** Last index delivered before the current detach, if detached. */
  private detachedAfter: number | undefined;

  constructor(
    private readonly sessionId: string,
    sink: SessionSink,
    private readonly log: Logger,
    /** Events kept for replay. */
    private readonly bufferEvents = 512,
  ) {
    this.sink = sink;
  }

  /** Index of the last event emitted, -1 before any. */
  get lastIndex(): number {
    return this.nextIndex - 1;
  }

  /** Emits an event at session audio time `timeMs`; returns it as sent. */
  emit(body: ServerEventBody, timeMs: number): ServerEvent {
    const index = this.nextIndex++;
    const stamp = { sessionId: this.sessionId, timeMs: Math.round(timeMs), eventIndex: index };
    const event = { ...body, ...stamp } as ServerEvent;
    this.buffer.push({ index, event });
    if (this.buffer.length > this.bufferEvents) this.buffer.shift();
    if (event.type === 'error') metrics.errorsTotal.inc({ code: event.code });
    this.deliver(event, index);
    return event;
  }

  audio(frame: AgentAudioFrame): void {
    if (!this.sink) return;
    try {
      this.sink.audio(frame);
    } catch (err) {
      this.log.warn({ err }, 'sink audio failed');
    }
  }

  /**
   * Routes output to `sink` and replays the buffered events after `replayAfterIndex`; without it,
   * the events emitted while detached.
   */
  attach(sink: SessionSink, replayAfterIndex?: number): void {
    this.sink = sink;
    const after = replayAfterIndex ?? this.detachedAfter;
    this.detachedAfter = undefined;
    if (after === undefined) return;
    this.replay(after);
  }

  detach(): void {
    this.sink = undefined;
    this.detachedAfter ??= this.lastIndex;
  }

  private replay(replayAfterIndex: number): void {
    const missed = this.buffer.filter((e) => e.index > replayAfterIndex);
    const oldest = this.buffer[0]?.index ?? this.nextIndex;
    if (oldest > replayAfterIndex + 1) {
      this.log.warn({ replayAfterIndex, oldest }, 'replay buffer too short; events lost');
    }
    for (const { index, event } of missed) this.deliver(event, index);
  }

  private deliver(event: ServerEvent, index: number): void {
    if (!this.sink) return;
    try {
      this.sink.event(event, index);
    } catch (err) {
      // A broken transport must not break the session's graph.
      this.log.warn({ err, type: event.type }, 'sink event failed');
    }
  }
}
