/**
 * The header of every binary WebSocket frame, 12 bytes, big-endian:
 *
 * | offset | size | field                                                          |
 * |--------|------|----------------------------------------------------------------|
 * | 0      | 1    | header version, 1                                              |
 * | 1      | 1    | kind: 1 = caller audio (client to server), 2 = agent audio      |
 * | 2      | 2    | stream: 0 for caller audio; the response number for agent audio |
 * | 4      | 4    | sequence number, +1 per frame of the stream, wraps at 2^32     |
 * | 8      | 4    | timestamp in ms: capture time (caller) or media time (agent)   |
 *
 * The codec payload (one Opus packet, or PCM16 / G.711 bytes) follows. The server uses the
 * sequence number to count lost and reordered frames, and the timestamp to keep its audio clock
 * straight across a loss.
 */

export const FRAME_HEADER_BYTES = 12;
export const FRAME_HEADER_VERSION = 1;

export const FRAME_KIND = { callerAudio: 1, agentAudio: 2 } as const;
export type FrameKind = (typeof FRAME_KIND)[keyof typeof FRAME_KIND];

export interface FrameHeader {
  kind: FrameKind;
  stream: number;
  seq: number;
  timestampMs: number;
}

export interface AudioFrame extends FrameHeader {
  payload: Uint8Array;
}

/** Writes a header and payload into one new buffer. */
export function encodeFrame(header: FrameHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, FRAME_HEADER_VERSION);
  view.setUint8(1, header.kind);
  view.setUint16(2, header.stream & 0xffff);
  view.setUint32(4, header.seq >>> 0);
  view.setUint32(8, Math.max(0, Math.floor(header.timestampMs)) >>> 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export type FrameDecodeResult =
  | { ok: true; frame: AudioFrame }
  | { ok: false; reason: 'too-short' | 'bad-version' | 'bad-kind' };

/** Parses a binary frame; the payload is a view into `data`, not a copy. */
export function decodeFrame(data: Uint8Array): FrameDecodeResult {
  if (data.byteLength < FRAME_HEADER_BYTES) return { ok: false, reason: 'too-short' };

  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint8(0) !== FRAME_HEADER_VERSION) return { ok: false, reason: 'bad-version' };

  const kind = view.getUint8(1);
  if (kind !== FRAME_KIND.callerAudio && kind !== FRAME_KIND.agentAudio) {
    return { ok: false, reason: 'bad-kind' };
  }

  return {
    ok: true,
    frame: {
      kind,
      stream: view.getUint16(2),
      seq: view.getUint32(4),
      timestampMs: view.getUint32(8),
      payload: data.subarray(FRAME_HEADER_BYTES),
    },
  };
}
