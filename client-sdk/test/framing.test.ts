import { describe, expect, it } from 'vitest';
import {
  FRAME_HEADER_BYTES,
  FRAME_KIND,
  decodeFrame,
  encodeFrame,
} from '../../src/protocol/index.js';
import { AudioOutbox } from '../src/audio-outbox.js';

describe('binary frame header', () => {
  it('round-trips kind, stream, seq, timestamp and payload', () => {
    const payload = new Uint8Array([1, 2, 3, 250]);
    const bytes = encodeFrame(
      { kind: FRAME_KIND.agentAudio, stream: 7, seq: 0xfffffffe, timestampMs: 123_456 },
      payload,
    );
    expect(bytes.byteLength).toBe(FRAME_HEADER_BYTES + 4);

    const decoded = decodeFrame(bytes);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.frame).toMatchObject({
      kind: FRAME_KIND.agentAudio,
      stream: 7,
      seq: 0xfffffffe,
      timestampMs: 123_456,
    });
    expect([...decoded.frame.payload]).toEqual([1, 2, 3, 250]);
  });

  it('rejects short frames and unknown versions or kinds', () => {
    expect(decodeFrame(new Uint8Array(11))).toEqual({ ok: false, reason: 'too-short' });
    const bad = encodeFrame(
      { kind: FRAME_KIND.callerAudio, stream: 0, seq: 0, timestampMs: 0 },
      new Uint8Array(0),
    );
    bad[0] = 2;
    expect(decodeFrame(bad)).toEqual({ ok: false, reason: 'bad-version' });
    bad[0] = 1;
    bad[1] = 9;
    expect(decodeFrame(bad)).toEqual({ ok: false, reason: 'bad-kind' });
  });
});

describe('AudioOutbox', () => {
  const collect = () => {
    const sent: { seq: number; timestampMs: number; payload: number[] }[] = [];
    const send = (bytes: Uint8Array) => {
      const d = decodeFrame(bytes);
      if (!d.ok || d.frame.kind !== FRAME_KIND.callerAudio) throw new Error('bad frame');
      sent.push({
        seq: d.frame.seq,
        timestampMs: d.frame.timestampMs,
        payload: [...d.frame.payload],
      });
      return true;
    };
    return { sent, send };
  };

  it('stamps caller frames with consecutive seq and their media time', () => {
    const { sent, send } = collect();
    const outbox = new AudioOutbox(send);
    for (let i = 0; i < 3; i++) outbox.push(new Uint8Array([i]), 20, 1000 + i * 20, true);
    outbox.push(new Uint8Array([9]), 60, 1060, true);
    outbox.push(new Uint8Array([10]), 20, 1120, true);

    expect(sent.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(sent.map((f) => f.timestampMs)).toEqual([0, 20, 40, 60, 120]);
    expect(sent[3]!.payload).toEqual([9]);
  });

  it('holds frames while offline and sends them in order after flush, live frames after', async () => {
    const { sent, send } = collect();
    const outbox = new AudioOutbox(send, { flushFramesPerTick: 2, flushIntervalMs: 1 });
    outbox.push(new Uint8Array([0]), 20, 0, true);
    for (let i = 1; i <= 5; i++) outbox.push(new Uint8Array([i]), 20, i * 20, false);
    expect(sent).toHaveLength(1);
    expect(outbox.pendingMs).toBe(100);

    outbox.flush();
    outbox.push(new Uint8Array([6]), 20, 120, true);
    await vi_waitFor(() => outbox.pendingFrames === 0);
    expect(sent.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(sent.map((f) => f.payload[0])).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('drops the oldest frames beyond maxBufferedMs, leaving a gap in seq', () => {
    const { sent, send } = collect();
    const outbox = new AudioOutbox(send, { maxBufferedMs: 60, flushFramesPerTick: 100 });
    for (let i = 0; i < 5; i++) outbox.push(new Uint8Array([i]), 20, i * 20, false);
    expect(outbox.droppedFrames).toBe(2);

    outbox.flush();
    expect(sent.map((f) => f.seq)).toEqual([2, 3, 4]);
    expect(sent.map((f) => f.timestampMs)).toEqual([40, 60, 80]);
  });

  it('renumbers the backlog from zero when a new session replaces the old one', () => {
    const { sent, send } = collect();
    const outbox = new AudioOutbox(send, { flushFramesPerTick: 100 });
    outbox.push(new Uint8Array([0]), 20, 0, true);
    outbox.push(new Uint8Array([1]), 20, 20, true);
    outbox.push(new Uint8Array([2]), 20, 40, false);
    outbox.push(new Uint8Array([3]), 20, 60, false);

    outbox.rebase();
    outbox.flush();
    outbox.push(new Uint8Array([4]), 20, 80, true);
    expect(sent.slice(2)).toEqual([
      { seq: 0, timestampMs: 0, payload: [2] },
      { seq: 1, timestampMs: 20, payload: [3] },
      { seq: 2, timestampMs: 40, payload: [4] },
    ]);
  });
});

async function vi_waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!check()) throw new Error('condition not met');
}
