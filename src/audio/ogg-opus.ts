/**
 * Ogg Opus demuxing (RFC 3533 pages, RFC 7845 mapping): pages to packets with their 48 kHz
 * timestamps, OpusHead parsed. Tolerant of what files do in the wild: a page with a bad CRC is
 * dropped (with any packet it carried or continued), and later packets keep their true times
 * from the granule positions; a file cut mid-page ends cleanly at the last whole page.
 */
import { opusPacketSamples48k } from './opus-packet.js';

export interface OpusHead {
  version: number;
  channels: number;
  /** Samples at 48 kHz to drop from the start of the decoded stream. */
  preSkip: number;
  /** Rate of the original input, informational only. */
  inputSampleRateHz: number;
  /** Gain to apply, in dB (Q7.8 in the file). */
  outputGainDb: number;
  mappingFamily: number;
}

export interface OggOpusPacket {
  data: Uint8Array;
  /** Start of the packet's audio in 48 kHz samples, pre-skip included (granule scale). */
  startSample: number;
  /** Samples at 48 kHz the packet holds (from its TOC byte). */
  durationSamples: number;
}

export interface OggOpusStream {
  head: OpusHead;
  packets: OggOpusPacket[];
  /** Granule of the last good page: end of the audio in 48 kHz samples, pre-skip included. */
  endSample: number;
  /** Pages dropped for a bad CRC. */
  badPages: number;
  /** True when the data ended inside a page. */
  truncated: boolean;
}

export class OggOpusError extends Error {
  override name = 'OggOpusError';
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** Ogg's CRC-32 (polynomial 0x04C11DB7, no reflection) over a page with its CRC field zeroed. */
function pageCrc(page: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : page[i]!;
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  }
  return crc;
}

interface OggPage {
  granule: number;
  serial: number;
  continued: boolean;
  /** Packets completed on this page; the first may be the end of one begun earlier. */
  segments: { data: Uint8Array; complete: boolean }[];
}

/** Splits the data into pages, skipping damaged ones; stops at a page cut short. */
function readPages(data: Uint8Array): { pages: (OggPage | 'bad')[]; truncated: boolean } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const pages: (OggPage | 'bad')[] = [];
  let at = 0;
  while (at + 27 <= data.length) {
    if (
      data[at] !== 0x4f ||
      data[at + 1] !== 0x67 ||
      data[at + 2] !== 0x67 ||
      data[at + 3] !== 0x53
    ) {
      // Lost sync: search for the next capture pattern.
      const next = findCapture(data, at + 1);
      if (next < 0) break;
      at = next;
      continue;
    }
    const segCount = data[at + 26]!;
    if (at + 27 + segCount > data.length) return { pages, truncated: true };

    const lacing = data.subarray(at + 27, at + 27 + segCount);
    const bodyLen = lacing.reduce((n, v) => n + v, 0);
    const end = at + 27 + segCount + bodyLen;
    if (end > data.length) return { pages, truncated: true };

    const page = data.subarray(at, end);
    if (pageCrc(page) !== view.getUint32(at + 22, true)) {
      pages.push('bad');
      at = end;
      continue;
    }

    const segments: OggPage['segments'] = [];
    let start = at + 27 + segCount;
    let len = 0;
    for (let i = 0; i < segCount; i++) {
      len += lacing[i]!;
      if (lacing[i]! < 255) {
        segments.push({ data: data.subarray(start, start + len), complete: true });
        start += len;
        len = 0;
      }
    }
    if (len > 0 || (segCount > 0 && lacing[segCount - 1] === 255)) {
      segments.push({ data: data.subarray(start, start + len), complete: false });
    }
    const low = view.getUint32(at + 6, true);
    const high = view.getInt32(at + 10, true);
    pages.push({
      granule: high * 0x100000000 + low,
      serial: view.getUint32(at + 14, true),
      continued: (data[at + 5]! & 0x01) !== 0,
      segments,
    });
    at = end;
  }
  return { pages, truncated: at < data.length };
}

function findCapture(data: Uint8Array, from: number): number {
  for (let i = from; i + 4 <= data.length; i++) {
    if (data[i] === 0x4f && data[i + 1] === 0x67 && data[i + 2] === 0x67 && data[i + 3] === 0x53)
      return i;
  }
  return -1;
}

function parseHead(packet: Uint8Array): OpusHead {
  const tag = String.fromCharCode(...packet.subarray(0, 8));
  if (packet.length < 19 || tag !== 'OpusHead')
    throw new OggOpusError('first packet is not OpusHead');

  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  return {
    version: packet[8]!,
    channels: packet[9]!,
    preSkip: view.getUint16(10, true),
    inputSampleRateHz: view.getUint32(12, true),
    outputGainDb: view.getInt16(16, true) / 256,
    mappingFamily: packet[18]!,
  };
}

/** Demuxes an Ogg Opus file held in memory. Throws `OggOpusError` when it has no OpusHead. */
export function demuxOggOpus(data: Uint8Array): OggOpusStream {
  const { pages, truncated } = readPages(data);
  let badPages = 0;
  let head: OpusHead | undefined;
  let serial = -1;
  let headerPackets = 0;
  let endSample = 0;
  const packets: OggOpusPacket[] = [];
  let partial: Uint8Array[] | null = null;

  for (const page of pages) {
    if (page === 'bad') {
      badPages++;
      partial = null;
      continue;
    }
    if (serial >= 0 && page.serial !== serial) continue;

    const done: Uint8Array[] = [];
    page.segments.forEach((seg, i) => {
      // A continuation whose beginning was on a dropped page is unusable.
      let pieces: Uint8Array[] | null = [seg.data];
      if (i === 0 && page.continued) pieces = partial ? [...partial, seg.data] : null;
      partial = null;
      if (!pieces) return;
      if (seg.complete) done.push(pieces.length === 1 ? pieces[0]! : joinBytes(pieces));
      else partial = pieces;
    });

    const audio: Uint8Array[] = [];
    for (const packet of done) {
      if (headerPackets === 0) {
        head = parseHead(packet);
        serial = page.serial;
      }
      if (headerPackets < 2) headerPackets++;
      else audio.push(packet);
    }
    if (audio.length === 0) continue;

    // The granule is the end time of the last packet completed on the page. Packets follow on
    // from the previous page unless the granule says some are missing (a dropped page); on the
    // last page the granule may be smaller than the packets' length (end trimming).
    const durations = audio.map((p) => Math.max(0, opusPacketSamples48k(p)));
    const total = durations.reduce((n, d) => n + d, 0);
    let start = Math.max(endSample, page.granule - total);
    audio.forEach((p, i) => {
      packets.push({ data: p, startSample: start, durationSamples: durations[i]! });
      start += durations[i]!;
    });
    endSample = page.granule >= 0 ? page.granule : start;
  }

  if (!head) throw new OggOpusError('no OpusHead page found');
  return { head, packets, endSample, badPages, truncated };
}

function joinBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
