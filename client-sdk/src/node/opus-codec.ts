/**
 * Encoders and decoders for the codecs a Node client speaks: Opus through `@evan/opus` (native
 * libopus) and PCM16. Samples are floats in [-1, 1]; stereo is interleaved.
 */
import { Decoder, Encoder } from '@evan/opus';
import type { Codec } from '../../../src/protocol/index.js';
import { CLIENT_ERROR_CODES, UndertoneClientError } from '../errors.js';
import { floatToInt16, floatToPcm16Bytes, pcm16BytesToFloat } from '../pcm.js';

type OpusRate = 8000 | 12000 | 16000 | 24000 | 48000;
const OPUS_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

export interface FrameEncoder {
  readonly codec: Codec;
  /** Encodes one frame of interleaved samples. */
  encode(samples: Float32Array): Uint8Array;
}

export interface FrameDecoder {
  readonly codec: Codec;
  /** Decodes one payload to interleaved samples. */
  decode(payload: Uint8Array): Float32Array;
}

export interface CodecOptions {
  codec: Codec;
  sampleRateHz: number;
  channels?: 1 | 2;
  /** Opus bitrate in bits per second. Default 32000 per channel. */
  bitrateBps?: number;
}

function checkOpusRate(rate: number): OpusRate {
  if (!OPUS_RATES.includes(rate)) {
    throw new UndertoneClientError(
      CLIENT_ERROR_CODES.unsupportedCodec,
      `opus cannot run at ${rate} Hz`,
    );
  }
  return rate as OpusRate;
}

export function createFrameEncoder(options: CodecOptions): FrameEncoder {
  const channels = options.channels ?? 1;
  if (options.codec === 'pcm16') return { codec: 'pcm16', encode: floatToPcm16Bytes };
  if (options.codec !== 'opus') {
    throw new UndertoneClientError(
      CLIENT_ERROR_CODES.unsupportedCodec,
      `cannot encode ${options.codec}`,
    );
  }

  const encoder = new Encoder({
    channels,
    sample_rate: checkOpusRate(options.sampleRateHz),
    application: 'voip',
  });
  encoder.bitrate = options.bitrateBps ?? 32_000 * channels;
  return { codec: 'opus', encode: (samples) => encoder.encode(floatToInt16(samples)) };
}

export function createFrameDecoder(options: CodecOptions): FrameDecoder {
  const channels = options.channels ?? 1;
  if (options.codec === 'pcm16') return { codec: 'pcm16', decode: pcm16BytesToFloat };
  if (options.codec !== 'opus') {
    throw new UndertoneClientError(
      CLIENT_ERROR_CODES.unsupportedCodec,
      `cannot decode ${options.codec}`,
    );
  }

  const decoder = new Decoder({ channels, sample_rate: checkOpusRate(options.sampleRateHz) });
  return {
    codec: 'opus',
    decode(payload) {
      try {
        return pcm16BytesToFloat(decoder.decode(payload));
      } catch {
        // A corrupt packet: play nothing for it rather than stop the stream.
        return new Float32Array(0);
      }
    },
  };
}
