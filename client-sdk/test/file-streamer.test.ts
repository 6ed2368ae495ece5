import { afterEach, describe, expect, it } from 'vitest';
import { createFrameDecoder, createFrameEncoder } from '../src/node/opus-codec.js';
import { nodeSocketFactory } from '../src/node/node-socket.js';
import { prepareAudio, streamAudio } from '../src/node/file-streamer.js';
import { parseWavBytes } from '../src/node/wav-file.js';
import { resample } from '../src/pcm.js';
import { UndertoneClient } from '../src/undertone-client.js';
import { ServerTestDouble } from './server-test-double.js';

const tone = (rateHz: number, seconds: number, freqHz = 440) =>
  Float32Array.from(
    { length: Math.round(rateHz * seconds) },
    (_, i) => 0.5 * Math.sin((2 * Math.PI * freqHz * i) / rateHz),
  );

const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

let double: ServerTestDouble | undefined;
afterEach(async () => {
  await double?.close();
  double = undefined;
});

describe('file streamer', () => {
  it('keeps protocol rates and resamples others (44.1 kHz -> 48 kHz for Opus, 16 kHz for PCM16)', () => {
    const at16 = prepareAudio({ sampleRateHz: 16000, channels: [tone(16000, 0.1)] }, 'opus');
    expect(at16.format).toEqual({ codec: 'opus', sampleRateHz: 16000, channels: 1, frameMs: 20 });

    const stereo = prepareAudio(
      { sampleRateHz: 44100, channels: [tone(44100, 0.5), tone(44100, 0.5, 300)] },
      'opus',
    );
    expect(stereo.format).toMatchObject({ sampleRateHz: 48000, channels: 2 });
    expect(stereo.channels[0]!.length).toBe(24000);
    expect(
      prepareAudio({ sampleRateHz: 44100, channels: [tone(44100, 0.5)] }, 'pcm16').format
        .sampleRateHz,
    ).toBe(16000);
  });

  it('resamples without losing a tone below the new Nyquist, and removes one above it', () => {
    const kept = resample(tone(48000, 0.2, 1000), 48000, 16000);
    expect(rms(kept.subarray(200, -200))).toBeCloseTo(0.5 / Math.SQRT2, 2);
    const removed = resample(tone(48000, 0.2, 12000), 48000, 16000);
    expect(rms(removed.subarray(200, -200))).toBeLessThan(0.02);
  });

  it('encodes Opus frames that decode back to 20 ms of the same sound', () => {
    const encoder = createFrameEncoder({ codec: 'opus', sampleRateHz: 48000 });
    const decoder = createFrameDecoder({ codec: 'opus', sampleRateHz: 48000 });
    const signal = tone(48000, 0.4);
    const out: Float32Array[] = [];
    for (let i = 0; i < 20; i++)
      out.push(decoder.decode(encoder.encode(signal.subarray(i * 960, (i + 1) * 960))));
    expect(out.every((f) => f.length === 960)).toBe(true);
    // Past the codec's start-up, the level matches the input's.
    expect(rms(out[15]!)).toBeGreaterThan(0.25);
    expect(decoder.decode(new Uint8Array([0xff, 0xff, 0xff]))).toHaveLength(0);
  });

  it('streams a file as consecutive frames plus tail silence, paced by speed', async () => {
    double = await ServerTestDouble.start({ prosodyEveryFrames: 0 });
    const client = new UndertoneClient({
      url: double.url,
      socketFactory: nodeSocketFactory,
      pingIntervalMs: 0,
    });
    const audio = prepareAudio({ sampleRateHz: 16000, channels: [tone(16000, 0.31)] }, 'pcm16');
    await client.start({ mode: 'transcribe', audio: audio.format });

    const result = await streamAudio(client, audio, { speed: 50, tailSilenceMs: 100 });
    await client.end();

    expect(result).toEqual({ frames: 21, audioMs: 420 });
    expect(double.session.frames.map((f) => f.seq)).toEqual(
      Array.from({ length: 21 }, (_, i) => i),
    );
    expect(double.session.frames.every((f) => f.bytes === 640)).toBe(true);
  });

  it('reads 16-bit and float WAV files and rejects others with a coded error', () => {
    const wav = (format: number, bits: number, body: Uint8Array) => {
      const out = new Uint8Array(44 + body.byteLength);
      const v = new DataView(out.buffer);
      out.set(
        [...'RIFF'].map((c) => c.charCodeAt(0)),
        0,
      );
      out.set(
        [...'WAVEfmt '].map((c) => c.charCodeAt(0)),
        8,
      );
      v.setUint32(16, 16, true);
      v.setUint16(20, format, true);
      v.setUint16(22, 1, true);
      v.setUint32(24, 8000, true);
      v.setUint16(34, bits, true);
      out.set(
        [...'data'].map((c) => c.charCodeAt(0)),
        36,
      );
      v.setUint32(40, body.byteLength, true);
      out.set(body, 44);
      return out;
    };
    const pcm = new Uint8Array(new Int16Array([16384, -32768]).buffer);
    expect([...parseWavBytes(wav(1, 16, pcm)).channels[0]!]).toEqual([0.5, -1]);
    const float = new Uint8Array(new Float32Array([0.25]).buffer);
    expect(parseWavBytes(wav(3, 32, float))).toMatchObject({ sampleRateHz: 8000 });
    expect(() => parseWavBytes(wav(7, 8, new Uint8Array(4)))).toThrow(
      expect.objectContaining({ code: 'UT_CLIENT_BAD_WAV' }),
    );
    expect(() => parseWavBytes(new Uint8Array(10))).toThrow(
      expect.objectContaining({ code: 'UT_CLIENT_BAD_WAV' }),
    );
  });
});
