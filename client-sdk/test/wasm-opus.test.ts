/**
 * The WebAssembly Opus encoder (the browser fallback where WebCodecs has no Opus), run in Node on
 * the very `.wasm` files the browser build copies: packets it writes must decode (with the native
 * libopus of `@evan/opus`) back to the signal that went in. Also the loader over real HTTP on
 * loopback, and the build script's copy of the module.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decoder } from '@evan/opus';
import { WasmOpusEncoder, loadWasmOpus } from '../src/browser/wasm-opus.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildBrowserSdk } from '../scripts/build-browser.mjs';

const opusDir = dirname(createRequire(import.meta.url).resolve('@evan/opus/package.json'));
const wasmBytes = (name: string) => new Uint8Array(readFileSync(join(opusDir, 'wasm', name)));

const RATE_HZ = 48_000;
const FRAME = 960; // 20 ms

/** A voiced-speech-like test signal: 140 Hz with harmonics and a slow amplitude swell, 1 s. */
function voicedSignal(seconds = 1): Float32Array {
  const out = new Float32Array(RATE_HZ * seconds);
  for (let i = 0; i < out.length; i++) {
    const t = i / RATE_HZ;
    const env = 0.25 + 0.15 * Math.sin(2 * Math.PI * 2 * t);
    let s = 0;
    for (let h = 1; h <= 6; h++) s += Math.sin(2 * Math.PI * 140 * h * t) / h;
    out[i] = env * s * 0.5;
  }
  return out;
}

/** Best normalised correlation of `decoded` against `input` over lags 0..maxLag samples. */
function bestCorrelation(input: Float32Array, decoded: Float32Array, maxLag = 1500): number {
  let best = 0;
  const from = 4800; // skip the encoder's start-up
  const n = input.length - from - maxLag;
  for (let lag = 0; lag <= maxLag; lag += 1) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = from; i < from + n; i++) {
      const x = input[i]!;
      const y = decoded[i + lag]!;
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    best = Math.max(best, xy / Math.sqrt(xx * yy));
  }
  return best;
}

function rms(x: Float32Array): number {
  let sum = 0;
  for (const v of x) sum += v * v;
  return Math.sqrt(sum / x.length);
}

describe('WasmOpusEncoder', () => {
  for (const file of ['opus.wasm', 'simd.wasm']) {
    it(`encodes 20 ms mono frames at 48 kHz that decode back to the input (${file})`, async () => {
      const module = await loadWasmOpus(wasmBytes(file));
      const encoder = new WasmOpusEncoder(module, { sampleRateHz: RATE_HZ, frameMs: 20 });
      const decoder = new Decoder({ channels: 1, sample_rate: RATE_HZ });
      const input = voicedSignal();
      const decoded = new Float32Array(input.length + FRAME);
      let bytes = 0;
      for (let at = 0; at < input.length; at += FRAME) {
        const packet = encoder.encode(input.subarray(at, at + FRAME));
        expect(packet.length).toBeGreaterThan(2);
        bytes += packet.length;
        const pcm = decoder.decode(packet);
        const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2);
        expect(samples.length).toBe(FRAME);
        for (let i = 0; i < FRAME; i++) decoded[at + i] = samples[i]! / 32768;
      }
      encoder.close();
      // 32 kb/s for 1 s is about 4000 bytes; far below PCM16's 96000.
      expect(bytes).toBeGreaterThan(1000);
      expect(bytes).toBeLessThan(12_000);
      // Opus is not waveform-exact (measured 0.895 here); a wrong rate, frame size or garbage
      // packets land near 0.
      expect(bestCorrelation(input, decoded)).toBeGreaterThan(0.8);
      expect(rms(decoded.subarray(4800, input.length)) / rms(input.subarray(4800))).toBeGreaterThan(
        0.7,
      );
      expect(rms(decoded.subarray(4800, input.length)) / rms(input.subarray(4800))).toBeLessThan(
        1.3,
      );
    });
  }

  it('keeps separate encoders on one module apart', async () => {
    const module = await loadWasmOpus(wasmBytes('opus.wasm'));
    const a = new WasmOpusEncoder(module, { sampleRateHz: 16_000, frameMs: 20 });
    const b = new WasmOpusEncoder(module, { sampleRateHz: 48_000, frameMs: 20 });
    expect(a.frameSamples).toBe(320);
    expect(b.frameSamples).toBe(960);
    expect(a.encode(new Float32Array(320)).length).toBeGreaterThan(0);
    expect(b.encode(new Float32Array(960)).length).toBeGreaterThan(0);
    a.close();
    b.close();
  });

  it('rejects what Opus cannot encode with coded errors', async () => {
    const module = await loadWasmOpus(wasmBytes('opus.wasm'));
    expect(() => new WasmOpusEncoder(module, { sampleRateHz: 44_100, frameMs: 20 })).toThrow(
      expect.objectContaining({ code: 'UT_CLIENT_UNSUPPORTED_CODEC' }),
    );
    expect(() => new WasmOpusEncoder(module, { sampleRateHz: 48_000, frameMs: 30 })).toThrow(
      expect.objectContaining({ code: 'UT_CLIENT_UNSUPPORTED_CODEC' }),
    );
    const encoder = new WasmOpusEncoder(module, { sampleRateHz: 48_000, frameMs: 20 });
    expect(() => encoder.encode(new Float32Array(100))).toThrow(
      expect.objectContaining({ code: 'UT_CLIENT_UNSUPPORTED_CODEC' }),
    );
    encoder.close();
    encoder.close();
    expect(() => encoder.encode(new Float32Array(960))).toThrow(
      expect.objectContaining({ code: 'UT_CLIENT_BAD_STATE' }),
    );
    await expect(loadWasmOpus(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({
      code: 'UT_CLIENT_UNSUPPORTED_CODEC',
    });
  });
});

describe('loadWasmOpus over HTTP and the browser build', () => {
  let outDir: string;
  let server: Server;
  let base: string;
  let requests = 0;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'undertone-sdk-'));
    buildBrowserSdk(outDir);
    server = createServer((req, res) => {
      requests++;
      try {
        const body = readFileSync(join(outDir, new URL(req.url!, 'http://x').pathname));
        res.writeHead(200, { 'content-type': 'application/wasm' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(outDir, { recursive: true, force: true });
  });

  it('copies the module and its licence next to the browser encoder', () => {
    const copied = readFileSync(join(outDir, 'browser', 'opus', 'opus.wasm'));
    expect(copied.equals(Buffer.from(wasmBytes('opus.wasm')))).toBe(true);
    expect(readFileSync(join(outDir, 'browser', 'opus', 'simd.wasm')).length).toBeGreaterThan(0);
    expect(readFileSync(join(outDir, 'browser', 'opus', 'LICENSE'), 'utf8')).toContain('MIT');
    expect(readFileSync(join(outDir, 'browser', 'wasm-opus.js'), 'utf8')).toContain(
      './opus/${simd',
    );
  });

  it('fetches the built module once per URL and encodes with it', async () => {
    const url = `${base}/browser/opus/opus.wasm`;
    const before = requests;
    const [first, second] = await Promise.all([loadWasmOpus(url), loadWasmOpus(new URL(url))]);
    expect(first).toBe(second);
    expect(requests - before).toBe(1);
    const encoder = new WasmOpusEncoder(first, { sampleRateHz: 48_000, frameMs: 20 });
    expect(encoder.encode(voicedSignal().subarray(0, FRAME)).length).toBeGreaterThan(2);
    encoder.close();
  });

  it('rejects a missing module with a coded error, and retries later', async () => {
    const url = `${base}/browser/opus/missing.wasm`;
    await expect(loadWasmOpus(url)).rejects.toMatchObject({
      code: 'UT_CLIENT_UNSUPPORTED_CODEC',
      message: expect.stringContaining('HTTP 404'),
    });
    const before = requests;
    await expect(loadWasmOpus(url)).rejects.toThrow(/HTTP 404/);
    expect(requests - before).toBe(1);
  });
});
