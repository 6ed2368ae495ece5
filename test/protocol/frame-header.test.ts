import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FRAME_KIND,
} from '../../src/protocol/frame-header.js';

describe('frame header', () => {
  it('writes the 12 header bytes big-endian before the payload', () => {
    const frame = encodeFrame(
      { kind: FRAME_KIND.agentAudio, stream: 0x0102, seq: 0x03040506, timestampMs: 0x0708090a },
      new Uint8Array([0xaa, 0xbb]),
    );
    expect([...frame]).toEqual([1, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xaa, 0xbb]);
  });

  it('round-trips header fields and returns the payload as a view', () => {
    const payload = new Uint8Array([1, 2, 3, 4]);
    const data = encodeFrame(
      { kind: FRAME_KIND.callerAudio, stream: 0, seq: 4_294_967_295, timestampMs: 123_456 },
      payload,
    );
    const result = decodeFrame(data);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.frame).toMatchObject({
      kind: 1,
      stream: 0,
      seq: 4_294_967_295,
      timestampMs: 123_456,
    });
    expect([...result.frame.payload]).toEqual([1, 2, 3, 4]);
    expect(result.frame.payload.buffer).toBe(data.buffer);
  });

  it('wraps sequence numbers and clamps negative timestamps', () => {
    const data = encodeFrame(
      { kind: 1, stream: 0, seq: 2 ** 32 + 5, timestampMs: -20 },
      new Uint8Array(),
    );
    const result = decodeFrame(data);
    expect(result.ok && [result.frame.seq, result.frame.timestampMs]).toEqual([5, 0]);
  });

  it('reads a header inside a larger buffer at an offset', () => {
    const inner = encodeFrame(
      { kind: 1, stream: 0, seq: 9, timestampMs: 180 },
      new Uint8Array([7]),
    );
    const outer = new Uint8Array(inner.byteLength + 5);
    outer.set(inner, 5);
    const result = decodeFrame(outer.subarray(5));
    expect(result.ok && [result.frame.seq, result.frame.payload[0]]).toEqual([9, 7]);
  });

  it.each([
    ['too-short', new Uint8Array(FRAME_HEADER_BYTES - 1)],
    ['bad-version', Uint8Array.from([2, 1, ...new Array(10).fill(0)])],
    ['bad-kind', Uint8Array.from([1, 3, ...new Array(10).fill(0)])],
  ])('refuses a frame with reason %s', (reason, data) => {
    expect(decodeFrame(data)).toEqual({ ok: false, reason });
  });

  it('accepts an empty payload', () => {
    const result = decodeFrame(
      encodeFrame({ kind: 1, stream: 0, seq: 0, timestampMs: 0 }, new Uint8Array()),
    );
    expect(result.ok && result.frame.payload.byteLength).toBe(0);
  });
});
