/**
 * One Opus stream decoded packet by packet with `@evan/opus` (native libopus), with the losses
 * and bad packets of a real network handled: a lost or undecodable packet becomes concealed
 * audio of its duration, so the audio clock never slips, and decoding goes on.
 *
 * The binding does not expose libopus' decode-with-no-data call, so concealment feeds a one-byte
 * packet of the last configuration (one frame, no data), which libopus answers with its PLC.
 */
import { Decoder } from '@evan/opus';
import { opusConcealmentPacket, opusFrameSamples48k, opusPacketSamples48k } from './opus-packet.js';

/** Rates libopus can decode to directly. */
export type OpusDecodeRateHz = 8000 | 12000 | 16000 | 24000 | 48000;

export interface OpusDecodeResult {
  /** Interleaved samples in [-1, 1] at the decoder's rate. */
  samples: Float32Array;
  /** Set when the packet could not be decoded; `samples` then hold concealment. */
  error?: string;
}

/** After this much concealment in a row, libopus' PLC has faded out: insert zeros instead. */
const MAX_PLC_MS = 200;

export class OpusStreamDecoder {
  readonly sampleRateHz: OpusDecodeRateHz;
  readonly channels: 1 | 2;
  private readonly decoder: Decoder;
  /** TOC byte of the last good packet; -1 before the first. */
  private lastToc = -1;
  /** Samples per channel of the last good packet, at the decoder's rate. */
  private lastPacketSamples: number;
  private concealedMs = 0;

  /**
   * @param nominalFrameMs duration assumed for losses before the first good packet
   */
  constructor(sampleRateHz: OpusDecodeRateHz, channels: 1 | 2, nominalFrameMs = 20) {
    this.sampleRateHz = sampleRateHz;
    this.channels = channels;
    this.decoder = new Decoder({ channels, sample_rate: sampleRateHz });
    this.lastPacketSamples = Math.round((sampleRateHz * nominalFrameMs) / 1000);
  }

  /** Samples per channel of the last good packet: the duration assumed for a lost one. */
  get packetSamples(): number {
    return this.lastPacketSamples;
  }

  /** Decodes one packet; an empty packet counts as lost. Never throws on bad data. */
  decode(packet: Uint8Array): OpusDecodeResult {
    if (packet.length === 0) return { samples: this.conceal(this.lastPacketSamples) };

    // A bad packet is concealed for the duration of the last good one: its own TOC byte may
    // be garbage too, and the stream's timeline is what must hold.
    const expected = this.lastPacketSamples;
    if (opusPacketSamples48k(packet) < 0) {
      return { samples: this.conceal(expected), error: 'invalid Opus packet framing' };
    }

    let bytes: Uint8Array;
    try {
      bytes = this.decoder.decode(packet);
    } catch (err) {
      const reason = err instanceof Error && err.message ? err.message : 'decoder rejected packet';
      return { samples: this.conceal(expected), error: reason };
    }

    this.lastToc = packet[0]!;
    this.lastPacketSamples = bytes.length / 2 / this.channels;
    this.concealedMs = 0;
    return { samples: int16BytesToFloat(bytes) };
  }

  /**
   * Concealment for `samplesPerChannel` of lost audio: libopus PLC while it still has something
   * to say, zeros after that.
   */
  conceal(samplesPerChannel: number): Float32Array {
    const total = Math.max(0, Math.round(samplesPerChannel)) * this.channels;
    const out = new Float32Array(total);
    if (this.lastToc < 0) return out;

    const plcPacket = opusConcealmentPacket(this.lastToc);
    const frameMs = opusFrameSamples48k(this.lastToc) / 48;
    let at = 0;
    while (at < total && this.concealedMs < MAX_PLC_MS) {
      let bytes: Uint8Array;
      try {
        bytes = this.decoder.decode(plcPacket);
      } catch {
        break;
      }
      const chunk = int16BytesToFloat(bytes);
      const n = Math.min(chunk.length, total - at);
      out.set(chunk.subarray(0, n), at);
      at += n;
      this.concealedMs += frameMs;
    }
    return out;
  }

  /** Clears the decoder state, e.g. after a long gap. */
  reset(): void {
    this.decoder.reset();
    this.concealedMs = 0;
  }
}

/** Interleaved int16 little-endian bytes (as the binding returns them) to floats. */
function int16BytesToFloat(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  if ((bytes.byteOffset & 1) === 0) {
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) out[i] = pcm[i]! / 32768;
  } else {
    for (let i = 0; i < n; i++)
      out[i] = (bytes[2 * i]! | ((bytes[2 * i + 1]! << 24) >> 16)) / 32768;
  }
  return out;
}
