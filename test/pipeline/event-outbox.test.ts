import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { EventOutbox } from '../../src/pipeline/event-outbox.js';
import type { ServerEvent } from '../../src/protocol/messages.js';
import type { SessionSink } from '../../src/pipeline/types.js';

function sink() {
  const events: Array<{ event: ServerEvent; index?: number }> = [];
  const s: SessionSink = {
    event: (event, index) => events.push({ event, index }),
    audio: () => undefined,
  };
  return { s, events };
}
const pong = (id: number) => ({ type: 'pong' as const, id, clientTimeMs: 0, serverTimeMs: 0 });

describe('EventOutbox', () => {
  it('stamps session id, audio time and a growing index', () => {
    const a = sink();
    const outbox = new EventOutbox('ses_1', a.s, silentLogger);
    outbox.emit(pong(1), 12.4);
    outbox.emit(pong(2), 40);
    expect(
      a.events.map((e) => [e.event.sessionId, e.event.timeMs, e.event.eventIndex, e.index]),
    ).toEqual([
      ['ses_1', 12, 0, 0],
      ['ses_1', 40, 1, 1],
    ]);
    expect(outbox.lastIndex).toBe(1);
  });

  it('replays what was missed while detached, from the index the client names or from the detach', () => {
    const a = sink();
    const outbox = new EventOutbox('ses_1', a.s, silentLogger);
    outbox.emit(pong(1), 0);
    outbox.detach();
    outbox.emit(pong(2), 0);
    outbox.emit(pong(3), 0);

    const b = sink();
    outbox.attach(b.s);
    expect(b.events.map((e) => e.index)).toEqual([1, 2]);

    const c = sink();
    outbox.attach(c.s, 0);
    expect(c.events.map((e) => e.index)).toEqual([1, 2]);
  });

  it('keeps a bounded buffer', () => {
    const a = sink();
    const outbox = new EventOutbox('ses_1', a.s, silentLogger, 3);
    for (let i = 0; i < 10; i++) outbox.emit(pong(i), 0);
    const b = sink();
    outbox.attach(b.s, -1);
    expect(b.events.map((e) => e.index)).toEqual([7, 8, 9]);
  });

  it('survives a sink that throws', () => {
    const outbox = new EventOutbox(
      'ses_1',
      {
        event: () => {
          throw new Error('gone');
        },
        audio: () => undefined,
      },
      silentLogger,
    );
    expect(() => outbox.emit(pong(1), 0)).not.toThrow();
  });
});
