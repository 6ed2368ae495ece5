/**
 * Agent speech (float mono at whatever rate the TTS engine produces) to the session's output
 * codec, in whole frames of `frameMs`: Opus, PCM16 LE, mu-law or A-law.
 */
import { Encoder } from '@evan/opus';
import type { Codec } from '../protocol/messages.js';
import { encodeALaw, encodeMuLaw } from './g711.js';
import { Resampler } from './resampler.js';
import { floatToPcm16 } from './wav.js';

export interface AgentAudioEncoderOptions {
  codec: Codec;
  /** Output rate: 8000, 16000, 24000 or 48000 (Opus also takes 12000). */
  sampleRateHz: number;
  /** Duration of one output frame in ms; Opus takes 10, 20, 40 or 60. */
  frameMs: number;
  /** Opus bitrate in bits per second (default: libopus' own choice for the rate). */
  opusBitrateBps?: number;
}

export interface EncodedAudioFrame {
  payload: Uint8Array;
  durationMs: number;
}

export interface AgentAudioEncoder {
  readonly codec: Codec;
  readonly sampleRateHz: number;
  readonly frameMs: number;
  /** Samples per output frame, at `sampleRateHz`. */
  readonly frameSamples: number;
  /** Encodes float mono samples at `inputRateHz`; returns the frames completed so far. */
  push(samples: Float32Array, inputRateHz: number): EncodedAudioFrame[];
  /** Encodes what is left, padding the last frame with silence; the encoder starts clean after. */
  flush(): EncodedAudioFrame[];
  /** Drops buffered audio and codec state (after a barge-in). */
  reset(): void;
}

const OPUS_RATES = new Set([8000, 12000, 16000, 24000, 48000]);
const OPUS_FRAME_MS = new Set([10, 20, 40, 60]);

/** Builds an encoder; throws `RangeError` for a rate or frame size the codec cannot take. */
export function createAgentAudioEncoder(options: AgentAudioEncoderOptions): AgentAudioEncoder {
  const { codec, sampleRateHz, frameMs } = options;
  const frameSamples = (sampleRateHz * frameMs) / 1000;
  if (!Number.isInteger(frameSamples) || frameSamples <= 0) {
    throw new RangeError(`${frameMs} ms at ${sampleRateHz} Hz is not a whole number of samples`);
  }
  if (codec === 'opus' && (!OPUS_RATES.has(sampleRateHz) || !OPUS_FRAME_MS.has(frameMs))) {
    throw new RangeError(`Opus cannot encode ${frameMs} ms frames at ${sampleRateHz} Hz`);
  }

  const encodeFrame = frameEncoder(options);
  const frame = new Float32Array(frameSamples);
  let filled = 0;
  let resampler: Resampler | null = null;

  const take = (samples: Float32Array, out: EncodedAudioFrame[]): void => {
    for (let at = 0; at < samples.length; ) {
      const n = Math.min(frameSamples - filled, samples.length - at);
      frame.set(samples.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === frameSamples) {
        out.push({ payload: encodeFrame.encode(frame), durationMs: frameMs });
        filled = 0;
      }
    }
  };

  return {
    codec,
    sampleRateHz,
    frameMs,
    frameSamples,
    push(samples, inputRateHz) {
      const out: EncodedAudioFrame[] = [];
      if (resampler && resampler.fromHz !== inputRateHz) take(resampler.flush(), out);
      if (!resampler || resampler.fromHz !== inputRateHz) {
        resampler = new Resampler(inputRateHz, sampleRateHz);
      }
      take(resampler.push(samples), out);
      return out;
    },
    flush() {
      const out: EncodedAudioFrame[] = [];
      if (resampler) take(resampler.flush(), out);
      if (filled > 0) {
        frame.fill(0, filled);
        out.push({ payload: encodeFrame.encode(frame), durationMs: frameMs });
        filled = 0;
      }
      encodeFrame.reset();
      return out;
    },
    reset() {
      filled = 0;
      resampler?.reset();
      encodeFrame.reset();
    },
  };
}

interface FrameEncoder {
  encode(frame: Float32Array): Uint8Array;
  reset(): void;
}

function frameEncoder(options: AgentAudioEncoderOptions): FrameEncoder {
  switch (options.codec) {
    case 'pcm16':
      return { encode: encodePcm16, reset: () => {} };
    case 'mulaw':
      return { encode: encodeMuLaw, reset: () => {} };
    case 'alaw':
      return { encode: encodeALaw, reset: () => {} };
    case 'opus': {
      const encoder = new Encoder({
        channels: 1,
        sample_rate: options.sampleRateHz as 8000 | 12000 | 16000 | 24000 | 48000,
        application: 'voip',
      });
      if (options.opusBitrateBps) encoder.bitrate = options.opusBitrateBps;
      const pcm = new Int16Array((options.sampleRateHz * options.frameMs) / 1000);
      return {
        encode(frame) {
          return encoder.encode(floatToPcm16(frame, pcm));
        },
        reset: () => encoder.reset(),
      };
    }
  }
}

/** Float samples to little-endian PCM16 bytes. */
export function encodePcm16(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  const pcm = floatToPcm16(samples);
  for (let i = 0; i < pcm.length; i++) view.setInt16(2 * i, pcm[i]!, true);
  return out;
}
