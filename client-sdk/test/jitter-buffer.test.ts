import { describe, expect, it } from 'vitest';
import { JitterBuffer } from '../src/jitter-buffer.js';

const RATE = 16_000;
/** A 20 ms frame whose first sample carries `mark`, to follow it through the buffer. */
const frame = (mark: number) => {
  const samples = new Float32Array(320);
  samples[0] = mark;
  return samples;
};

function setup(targetMs = 60) {
  let now = 0;
  const buffer = new JitterBuffer({ targetMs, now: () => now });
  const advance = (ms: number) => {
    now += ms;
  };
  const drain = () => {
    const out: { id: string; seq: number; mark: number }[] = [];
    for (let f = buffer.pop(); f; f = buffer.pop())
      out.push({ id: f.responseId, seq: f.seq, mark: f.samples[0]! });
    return out;
  };
  return { buffer, advance, drain };
}

describe('JitterBuffer', () => {
  it('waits for the target before starting a response', () => {
    const { buffer, advance } = setup(60);
    buffer.push('r1', 0, frame(0), RATE);
    buffer.push('r1', 1, frame(1), RATE);
    expect(buffer.pop()).toBeUndefined();

    buffer.push('r1', 2, frame(2), RATE);
    const first = buffer.pop();
    expect(first).toMatchObject({ responseId: 'r1', seq: 0, first: true, durationMs: 20 });
    advance(0);
    expect(buffer.pop()).toMatchObject({ seq: 1, first: false });
  });

  it('starts anyway once the first frame has waited the target', () => {
    const { buffer, advance } = setup(60);
    buffer.push('r1', 0, frame(0), RATE);
    advance(59);
    expect(buffer.pop()).toBeUndefined();
    advance(1);
    expect(buffer.pop()).toMatchObject({ seq: 0 });
  });

  it('puts frames that arrive out of order back in sequence', () => {
    const { buffer, drain } = setup(60);
    for (const seq of [2, 0, 3, 1, 5, 4]) buffer.push('r1', seq, frame(seq), RATE);
    buffer.end('r1');
    expect(drain().map((f) => f.mark)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('drops duplicates and frames older than what already played', () => {
    const { buffer, advance, drain } = setup(60);
    buffer.push('r1', 0, frame(0), RATE);
    expect(buffer.push('r1', 0, frame(0), RATE)).toBe('duplicate');
    advance(60);
    expect(drain().map((f) => f.seq)).toEqual([0]);

    buffer.push('r1', 2, frame(2), RATE);
    expect(drain().map((f) => f.seq)).toEqual([]);
    expect(buffer.push('r1', 1, frame(1), RATE)).toBe('queued');
    advance(60);
    expect(drain().map((f) => f.seq)).toEqual([1, 2]);
    expect(buffer.push('r1', 0, frame(0), RATE)).toBe('late');
    expect(buffer.stats).toMatchObject({ duplicateFrames: 1, lateFrames: 1, skippedFrames: 0 });
  });

  it('waits for a missing frame up to the target, then skips it', () => {
    const { buffer, advance, drain } = setup(60);
    for (const seq of [0, 1, 2]) buffer.push('r1', seq, frame(seq), RATE);
    expect(drain().map((f) => f.seq)).toEqual([0, 1, 2]);

    buffer.push('r1', 4, frame(4), RATE);
    expect(drain()).toEqual([]);
    advance(60);
    expect(drain().map((f) => f.seq)).toEqual([4]);
    expect(buffer.stats.skippedFrames).toBe(1);
  });

  it('clear() drops a cancelled response at once and ignores its later frames', () => {
    const { buffer, drain } = setup(40);
    for (let seq = 0; seq < 10; seq++) buffer.push('r1', seq, frame(seq), RATE);
    expect(
      drain()
        .slice(0, 3)
        .map((f) => f.seq),
    ).toEqual([0, 1, 2]);

    const again = setup(40);
    for (let seq = 0; seq < 10; seq++) again.buffer.push('r1', seq, frame(seq), RATE);
    again.buffer.pop();
    again.buffer.pop();
    expect(again.buffer.clear('r1')).toBe(160);
    expect(again.buffer.queuedMs()).toBe(0);
    expect(again.buffer.push('r1', 10, frame(10), RATE)).toBe('cleared');
    expect(again.buffer.pop()).toBeUndefined();
    expect(again.buffer.playedMs('r1')).toBe(40);
  });

  it('plays responses in order, and a barge-in reply after a cleared one', () => {
    const { buffer, drain } = setup(20);
    buffer.push('r1', 0, frame(10), RATE);
    buffer.push('r1', 1, frame(11), RATE);
    buffer.push('r2', 0, frame(20), RATE);
    buffer.end('r1');
    buffer.end('r2');
    expect(drain().map((f) => [f.id, f.mark])).toEqual([
      ['r1', 10],
      ['r1', 11],
      ['r2', 20],
    ]);

    buffer.push('r3', 0, frame(30), RATE);
    buffer.push('r3', 1, frame(31), RATE);
    buffer.clear('r3');
    buffer.push('r4', 0, frame(40), RATE);
    buffer.end('r4');
    expect(drain().map((f) => [f.id, f.mark])).toEqual([['r4', 40]]);
  });

  it('reports the playback position per response and counts underruns', () => {
    const { buffer, advance, drain } = setup(40);
    for (let seq = 0; seq < 3; seq++) buffer.push('r1', seq, frame(seq), RATE);
    drain();
    expect(buffer.playedMs('r1')).toBe(60);
    expect(buffer.pop()).toBeUndefined();
    expect(buffer.stats.underruns).toBe(1);

    buffer.push('r1', 3, frame(3), RATE);
    expect(buffer.pop()).toBeUndefined();
    advance(40);
    expect(drain().map((f) => f.seq)).toEqual([3]);
    expect(buffer.playedMs('r1')).toBe(80);
    expect(buffer.playedMs('unknown')).toBe(0);
  });
});
