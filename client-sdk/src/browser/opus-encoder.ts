/**
 * Caller audio encoding in the browser: Opus through WebCodecs `AudioEncoder` where the browser
 * has it, else Opus through libopus in WebAssembly (`wasm-opus.ts`, fetched only then), else
 * PCM16 at 16 kHz (more bytes, no codec needed) when even that module cannot load.
 */
import type { AudioFormat, SampleRateHz } from '../../../src/protocol/index.js';
import { floatToPcm16Bytes } from '../pcm.js';
import { WasmOpusEncoder, loadWasmOpus } from './wasm-opus.js';

export interface EncodedPacket {
  payload: Uint8Array;
  /** Client clock at the packet's first sample, ms. */
  captureTimeMs: number;
  durationMs: number;
}

/** What encodes: WebCodecs `AudioEncoder`, libopus in WebAssembly, or no codec (PCM16). */
export type BrowserEncoderKind = 'webcodecs' | 'wasm' | 'pcm16';

export interface BrowserEncoder {
  /** The `audio` field for `session.start`; capture at `format.sampleRateHz`. */
  readonly format: AudioFormat;
  readonly kind: BrowserEncoderKind;
  /** Encodes one frame of mono samples at `format.sampleRateHz`; packets come through `onPacket`. */
  encode(samples: Float32Array, captureTimeMs: number): void;
  close(): void;
}

export interface BrowserEncoderOptions {
  /**
   * `opus` (default): WebCodecs where supported, else WebAssembly libopus, else PCM16. `wasm`:
   * WebAssembly libopus even where WebCodecs could (rejects when the module cannot load).
   * `pcm16`: no codec.
   */
  prefer?: 'opus' | 'wasm' | 'pcm16';
  frameMs?: number;
  /** Opus bitrate, bits per second. Default 32000. */
  bitrateBps?: number;
  /**
   * Where to fetch the libopus WebAssembly module. Default: `./opus/` next to this module, where
   * the browser build copies it (`simd.wasm` or `opus.wasm`).
   */
  wasmUrl?: string | URL;
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
  const prefer = options.prefer ?? 'opus';
  if (prefer === 'opus' && (await webCodecsOpusSupported(bitrate))) {
    return createWebCodecsEncoder(frameMs, bitrate, options);
  }
  if (prefer === 'wasm') return createWasmEncoder(frameMs, bitrate, options);
  if (prefer === 'opus') {
    try {
      return await createWasmEncoder(frameMs, bitrate, options);
    } catch {
      // No module to load (not built, offline, no WebAssembly): PCM16 still works everywhere.
    }
  }
  return {
    format: { codec: 'pcm16', sampleRateHz: PCM_RATE_HZ, channels: 1, frameMs },
    kind: 'pcm16',
    encode: (samples, captureTimeMs) =>
      options.onPacket({ payload: floatToPcm16Bytes(samples), captureTimeMs, durationMs: frameMs }),
    close: () => {},
  };
}

async function createWasmEncoder(
  frameMs: number,
  bitrate: number,
  options: BrowserEncoderOptions,
): Promise<BrowserEncoder> {
  const opus = new WasmOpusEncoder(await loadWasmOpus(options.wasmUrl), {
    sampleRateHz: OPUS_RATE_HZ,
    frameMs,
    bitrateBps: bitrate,
    complexity: 5,
  });
  return {
    format: { codec: 'opus', sampleRateHz: OPUS_RATE_HZ as SampleRateHz, channels: 1, frameMs },
    kind: 'wasm',
    encode(samples, captureTimeMs) {
      let payload: Uint8Array;
      try {
        payload = opus.encode(samples);
      } catch (err) {
        options.onError?.(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      options.onPacket({ payload, captureTimeMs, durationMs: frameMs });
    },
    close: () => opus.close(),
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
    kind: 'webcodecs',
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
