/**
 * Caller audio encoding in the browser: Opus through WebCodecs `AudioEncoder` where the browser
 * has it, else PCM16 at 16 kHz (more bytes, no codec needed).
 *
 * TODO: a WASM Opus fallback (`@evan/opus` ships one in `wasm/`) for browsers without WebCodecs
 * Opus; until then those send PCM16.
 */
import type { AudioFormat, SampleRateHz } from '../../../src/protocol/index.js';
import { floatToPcm16Bytes } from '../pcm.js';

export interface EncodedPacket {
  payload: Uint8Array;
  /** Client clock at the packet's first sample, ms. */
  captureTimeMs: number;
  durationMs: number;
}

export interface BrowserEncoder {
  /** The `audio` field for `session.start`; capture at `format.sampleRateHz`. */
  readonly format: AudioFormat;
  /** Encodes one frame of mono samples at `format.sampleRateHz`; packets come through `onPacket`. */
  encode(samples: Float32Array, captureTimeMs: number): void;
  close(): void;
}

export interface BrowserEncoderOptions {
  /** `opus` (default: WebCodecs where supported, else PCM16) or `pcm16`. */
  prefer?: 'opus' | 'pcm16';
  frameMs?: number;
  /** Opus bitrate, bits per second. Default 32000. */
  bitrateBps?: number;
  onPacket(packet: EncodedPacket): void;
  onError?(err: Error): void;
}

const OPUS_RATE_HZ = 48_000;
const PCM_RATE_HZ = 16_000;

/** True when this browser can encode Opus with WebCodecs. */
export async function webCodecsOpusSupported(bitrateBps = 32_000): Promise<boolean> {
  if (typeof AudioEncoder === 'undefined') return false;
  try {
    const { supported } = await AudioEncoder.isConfigSupported(opusConfig(bitrateBps, 20));
    return supported === true;
  } catch {
    return false;
  }
}

export async function createBrowserEncoder(
  options: BrowserEncoderOptions,
): Promise<BrowserEncoder> {
  const frameMs = options.frameMs ?? 20;
  const bitrate = options.bitrateBps ?? 32_000;
  if (options.prefer !== 'pcm16' && (await webCodecsOpusSupported(bitrate))) {
    return createWebCodecsEncoder(frameMs, bitrate, options);
  }
  return {
    format: { codec: 'pcm16', sampleRateHz: PCM_RATE_HZ, channels: 1, frameMs },
    encode: (samples, captureTimeMs) =>
      options.onPacket({ payload: floatToPcm16Bytes(samples), captureTimeMs, durationMs: frameMs }),
    close: () => {},
  };
}

function opusConfig(bitrate: number, frameMs: number): AudioEncoderConfig {
  return {
    codec: 'opus',
    sampleRate: OPUS_RATE_HZ,
    numberOfChannels: 1,
    bitrate,
    opus: { frameDuration: frameMs * 1000, complexity: 5 },
  } as AudioEncoderConfig;
}

function createWebCodecsEncoder(
  frameMs: number,
  bitrate: number,
  options: BrowserEncoderOptions,
): BrowserEncoder {
  // WebCodecs timestamps are media microseconds; capture times are looked up by them.
  const captureByTimestamp = new Map<number, number>();
  let mediaUs = 0;
  const encoder = new AudioEncoder({
    output: (chunk) => {
      const payload = new Uint8Array(chunk.byteLength);
      chunk.copyTo(payload);
      const captureTimeMs =
        captureByTimestamp.get(chunk.timestamp) ?? performance.timeOrigin + performance.now();
      captureByTimestamp.delete(chunk.timestamp);
      options.onPacket({
        payload,
        captureTimeMs,
        durationMs: (chunk.duration ?? frameMs * 1000) / 1000,
      });
    },
    error: (err) => options.onError?.(err instanceof Error ? err : new Error(String(err))),
  });
  encoder.configure(opusConfig(bitrate, frameMs));

  return {
    format: { codec: 'opus', sampleRateHz: OPUS_RATE_HZ as SampleRateHz, channels: 1, frameMs },
    encode(samples, captureTimeMs) {
      captureByTimestamp.set(mediaUs, captureTimeMs);
      if (captureByTimestamp.size > 100)
        captureByTimestamp.delete(captureByTimestamp.keys().next().value!);
      const data = new AudioData({
        format: 'f32',
        sampleRate: OPUS_RATE_HZ,
        numberOfFrames: samples.length,
        numberOfChannels: 1,
        timestamp: mediaUs,
        data: samples as Float32Array<ArrayBuffer>,
      });
      encoder.encode(data);
      data.close();
      mediaUs += Math.round((samples.length / OPUS_RATE_HZ) * 1e6);
    },
    close() {
      if (encoder.state !== 'closed') encoder.close();
    },
  };
}
