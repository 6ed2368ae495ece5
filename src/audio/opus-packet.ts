/**
 * Reading an Opus packet's table-of-contents byte (RFC 6716 section 3.1) without decoding it:
 * how long the packet plays, and whether its framing can be valid at all.
 */

/** Duration of one frame of each TOC configuration (0-31), in 48 kHz samples. */
const FRAME_SAMPLES_48K: readonly number[] = [
  // SILK-only NB, MB, WB: 10, 20, 40, 60 ms
  480, 960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920, 2880,
  // Hybrid SWB, FB: 10, 20 ms
  480, 960, 480, 960,
  // CELT-only NB, WB, SWB, FB: 2.5, 5, 10, 20 ms
  120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960,
];

/** Samples at 48 kHz of one frame of the packet's configuration. */
export function opusFrameSamples48k(toc: number): number {
  return FRAME_SAMPLES_48K[toc >> 3]!;
}

/**
 * Samples at 48 kHz that the packet decodes to, or -1 when its framing is invalid (empty, a
 * code-3 packet without its count byte or with a count of 0, or more than 120 ms).
 */
export function opusPacketSamples48k(packet: Uint8Array): number {
  if (packet.length === 0) return -1;

  const toc = packet[0]!;
  const code = toc & 0x03;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 1 || code === 2) frames = 2;
  else {
    if (packet.length < 2) return -1;
    frames = packet[1]! & 0x3f;
  }
  const samples = frames * opusFrameSamples48k(toc);
  return frames === 0 || samples > 5760 ? -1 : samples;
}

/**
 * A one-byte packet of the same configuration as `toc`, holding one frame and no data: libopus
 * treats it as a lost frame and runs its packet-loss concealment for one frame duration.
 */
export function opusConcealmentPacket(toc: number): Uint8Array {
  return Uint8Array.of(toc & 0xfc);
}
