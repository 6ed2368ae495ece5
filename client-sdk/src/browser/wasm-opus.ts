/**
 * Opus encoding in WebAssembly, for browsers without WebCodecs Opus. Runs libopus as compiled by
 * `@evan/opus` (MIT; `node_modules/@evan/opus/wasm/{opus,simd}.wasm`), which the browser build
 * copies next to this module as `./opus/`. That package's own JS glue reads the file with Node's
 * `fs`, so this module instantiates the same standalone Emscripten module itself: it imports only
 * four no-op WASI calls and a memory-growth notice, and exports `malloc`/`free` and the
 * `opus_encoder_*` C API.
 *
 * The module is fetched on first use only; pages where WebCodecs encodes Opus never load it.
 */
import { CLIENT_ERROR_CODES, UndertoneClientError } from '../errors.js';

/** The C exports of the `@evan/opus` WebAssembly build that the encoder calls. */
interface OpusExports {
  memory: WebAssembly.Memory;
  _initialize?: () => void;
  malloc(bytes: number): number;
  free(ptr: number): void;
  opus_strerror(code: number): number;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(ptr: number, rateHz: number, channels: number, application: number): number;
  opus_encoder_ctl_set(ptr: number, request: number, value: number): number;
  opus_encode(
    ptr: number,
    pcm: number,
    frameSamples: number,
    out: number,
    maxBytes: number,
  ): number;
}

/** A loaded libopus instance; one may serve any number of encoders. */
export interface WasmOpusModule {
  readonly exports: OpusExports;
}

/** libopus constants (opus_defines.h). */
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_BITRATE_REQUEST = 4002;
const OPUS_SET_COMPLEXITY_REQUEST = 4010;
/** Largest packet libopus is asked to write, bytes (its documented safe maximum). */
const MAX_PACKET_BYTES = 4000;
const OPUS_RATES_HZ = [8000, 12000, 16000, 24000, 48000];
const OPUS_FRAME_MS = [2.5, 5, 10, 20, 40, 60];

/** A minimal module using one SIMD instruction (the probe `@evan/opus` uses). */
const SIMD_PROBE = Uint8Array.of(
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  4,
  1,
  96,
  0,
  0,
  3,
  2,
  1,
  0,
  10,
  9,
  1,
  7,
  0,
  65,
  0,
  253,
  15,
  26,
  11,
);

/** Where the build puts the module: `simd.wasm` where the engine has WebAssembly SIMD. */
export function defaultOpusWasmUrl(): URL {
  const simd = typeof WebAssembly.validate === 'function' && WebAssembly.validate(SIMD_PROBE);
  return new URL(`./opus/${simd ? 'simd' : 'opus'}.wasm`, import.meta.url);
}

const loaded = new Map<string, Promise<WasmOpusModule>>();

/**
 * Loads the libopus module from `source`: a URL to fetch (default {@link defaultOpusWasmUrl}) or
 * the module's bytes. URLs are loaded once per page; a failed load is retried on the next call.
 */
export function loadWasmOpus(
  source: string | URL | BufferSource = defaultOpusWasmUrl(),
): Promise<WasmOpusModule> {
  if (typeof source !== 'string' && !(source instanceof URL)) return instantiate(source);
  const key = String(source);
  let pending = loaded.get(key);
  if (!pending) {
    pending = fetchBytes(key).then(instantiate);
    pending.catch(() => loaded.delete(key));
    loaded.set(key, pending);
  }
  return pending;
}

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new UndertoneClientError(
      CLIENT_ERROR_CODES.unsupportedCodec,
      `could not fetch the Opus WebAssembly module at ${url}`,
      { cause: err },
    );
  }
  if (!response.ok) {
    throw new UndertoneClientError(
      CLIENT_ERROR_CODES.unsupportedCodec,
      `the Opus WebAssembly module at ${url} answered HTTP ${response.status}`,
    );
  }
  return response.arrayBuffer();
}

async function instantiate(bytes: BufferSource): Promise<WasmOpusModule> {
  const noop = () => 0;
  try {
    const { instance } = await WebAssembly.instantiate(bytes, {
      wasi_snapshot_preview1: { fd_seek: noop, fd_write: noop, fd_close: noop, proc_exit: noop },
      // Views into memory are taken per call, so growth needs no bookkeeping here.
      env: { emscripten_notify_memory_growth: noop },
    });
    const exports = instance.exports as unknown as OpusExports;
    exports._initialize?.();
    return { exports };
  } catch (err) {
    throw new UndertoneClientError(
      CLIENT_ERROR_CODES.unsupportedCodec,
      `the Opus WebAssembly module did not instantiate: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

export interface WasmOpusEncoderOptions {
  /** 8000, 12000, 16000, 24000 or 48000. */
  sampleRateHz: number;
  /** 2.5, 5, 10, 20, 40 or 60. Every `encode` call takes exactly one frame. */
  frameMs: number;
  /** Bits per second. Default 32000. */
  bitrateBps?: number;
  /** 0-10. Default 5 (as the WebCodecs path). */
  complexity?: number;
}

/** A mono libopus encoder (VoIP application) in WebAssembly memory. */
export class WasmOpusEncoder {
  readonly sampleRateHz: number;
  readonly frameSamples: number;
  private readonly wasm: OpusExports;
  private statePtr: number;
  private readonly pcmPtr: number;
  private readonly packetPtr: number;

  constructor(module: WasmOpusModule, options: WasmOpusEncoderOptions) {
    const { sampleRateHz, frameMs } = options;
    if (!OPUS_RATES_HZ.includes(sampleRateHz) || !OPUS_FRAME_MS.includes(frameMs)) {
      throw new UndertoneClientError(
        CLIENT_ERROR_CODES.unsupportedCodec,
        `Opus cannot encode ${frameMs} ms frames at ${sampleRateHz} Hz`,
      );
    }
    this.wasm = module.exports;
    this.sampleRateHz = sampleRateHz;
    this.frameSamples = (sampleRateHz * frameMs) / 1000;
    this.statePtr = this.wasm.malloc(this.wasm.opus_encoder_get_size(1));
    this.pcmPtr = this.wasm.malloc(this.frameSamples * 2);
    this.packetPtr = this.wasm.malloc(MAX_PACKET_BYTES);
    try {
      this.check(
        this.wasm.opus_encoder_init(this.statePtr, sampleRateHz, 1, OPUS_APPLICATION_VOIP),
      );
      const bitrate = Math.round(options.bitrateBps ?? 32_000);
      this.check(this.wasm.opus_encoder_ctl_set(this.statePtr, OPUS_SET_BITRATE_REQUEST, bitrate));
      const complexity = Math.min(10, Math.max(0, Math.round(options.complexity ?? 5)));
      this.check(
        this.wasm.opus_encoder_ctl_set(this.statePtr, OPUS_SET_COMPLEXITY_REQUEST, complexity),
      );
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Encodes one frame of mono samples in [-1, 1]; returns the Opus packet (a copy). */
  encode(samples: Float32Array): Uint8Array {
    if (this.statePtr === 0) {
      throw new UndertoneClientError(CLIENT_ERROR_CODES.badState, 'the Opus encoder is closed');
    }
    if (samples.length !== this.frameSamples) {
      throw new UndertoneClientError(
        CLIENT_ERROR_CODES.unsupportedCodec,
        `an Opus frame here is ${this.frameSamples} samples, got ${samples.length}`,
      );
    }
    const pcm = new Int16Array(this.wasm.memory.buffer, this.pcmPtr, this.frameSamples);
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]!));
      pcm[i] = s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
    }
    const bytes = this.check(
      this.wasm.opus_encode(
        this.statePtr,
        this.pcmPtr,
        this.frameSamples,
        this.packetPtr,
        MAX_PACKET_BYTES,
      ),
    );
    return new Uint8Array(this.wasm.memory.buffer, this.packetPtr, bytes).slice();
  }

  /** Frees the encoder's memory; later `encode` calls throw. Safe to call twice. */
  close(): void {
    if (this.statePtr === 0) return;
    this.wasm.free(this.statePtr);
    this.wasm.free(this.pcmPtr);
    this.wasm.free(this.packetPtr);
    this.statePtr = 0;
  }

  private check(code: number): number {
    if (code >= 0) return code;
    throw new UndertoneClientError(
      CLIENT_ERROR_CODES.unsupportedCodec,
      `opus: ${readCString(this.wasm.memory, this.wasm.opus_strerror(code))}`,
    );
  }
}

function readCString(memory: WebAssembly.Memory, ptr: number): string {
  const bytes = new Uint8Array(memory.buffer);
  let end = ptr;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return String.fromCharCode(...bytes.subarray(ptr, end));
}
