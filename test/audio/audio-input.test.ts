import { readFileSync } from 'node:fs';
import { Encoder } from '@evan/opus';
import { describe, expect, it } from 'vitest';
import { AudioInput } from '../../src/audio/audio-input.js';
import { encodeMuLaw } from '../../src/audio/g711.js';
import { floatToPcm16 } from '../../src/audio/wav.js';
import type { AudioFormat } from '../../src/protocol/messages.js';
import { concatFloat, rms, tone, toneFrequencyHz } from './signal-helpers.js';

const pcm16Bytes = (samples: Float32Array): Uint8Array =>
  new Uint8Array(floatToPcm16(samples).buffer);
const fmt = (f: Partial<AudioFormat>): AudioFormat =>
  ({ codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20, ...f }) as AudioFormat;
const codes = (errors: { code: string }[]) => errors.map((e) => e.code);

describe('AudioInput PCM16', () => {
  it('converts int16 by /32768 and passes 16 kHz through unchanged', () => {
    const input = new AudioInput(fmt({}));
    const bytes = Uint8Array.of(0x00, 0x80, 0xff, 0x7f, 0x00, 0x40, 0xff, 0xff);
    const padded = new Uint8Array(640);
    padded.set(bytes);
    const out = input.push(padded, { seq: 0 }).tracks[0]!;
    expect(Array.from(out.subarray(0, 4))).toEqual([-1, 32767 / 32768, 0.5, -1 / 32768]);
    expect(out.length).toBe(320);
  });

  it('reads a payload that does not start on an even byte offset', () => {
    const buf = new Uint8Array(641);
    buf[1] = 0x00;
    buf[2] = 0x40;
    const out = new AudioInput(fmt({})).push(buf.subarray(1)).tracks[0]!;
    expect(out[0]).toBe(0.5);
  });

  it('reports an odd byte count as a frame size mismatch and decodes the whole samples', () => {
    const result = new AudioInput(fmt({})).push(new Uint8Array(641));
    expect(codes(result.errors)).toContain('UT_ERR_FRAME_SIZE_MISMATCH');
    expect(result.tracks[0]!.length).toBe(320);
  });

  it('reports stereo bytes that are not whole sample frames', () => {
    const result = new AudioInput(fmt({ channels: 2 })).push(new Uint8Array(1282));
    expect(codes(result.errors)).toContain('UT_ERR_FRAME_SIZE_MISMATCH');
  });

  it('reports a wrong frame size once per run, and a persistent one as a rate mismatch', () => {
    // The client declared 16 kHz but sends 48 kHz: 20 ms frames are 1920 bytes, not 640.
    const input = new AudioInput(fmt({}));
    const all = Array.from({ length: 40 }, (_, i) => input.push(new Uint8Array(1920), { seq: i }));
    const flat = all.flatMap((r) => codes(r.errors));
    expect(flat.filter((c) => c === 'UT_ERR_FRAME_SIZE_MISMATCH')).toHaveLength(1);
    expect(flat.filter((c) => c === 'UT_ERR_SAMPLE_RATE_MISMATCH')).toHaveLength(1);
    expect(all[0]!.tracks[0]!.length).toBe(960);
  });

  it('conceals a sequence gap with its duration and drops late frames', () => {
    const input = new AudioInput(fmt({}));
    const frame = pcm16Bytes(tone(300, 16000, 320));
    expect(input.push(frame, { seq: 10 }).lostFrames).toBe(0);
    const gap = input.push(frame, { seq: 13 });
    expect(gap.lostFrames).toBe(2);
    expect(gap.tracks[0]!.length).toBe(3 * 320);
    expect(Array.from(gap.tracks[0]!.subarray(0, 640)).every((v) => v === 0)).toBe(true);

    const late = input.push(frame, { seq: 12 });
    expect(late.reordered).toBe(true);
    expect(late.tracks[0]!.length).toBe(0);
    expect(input.push(frame, { seq: 13 }).reordered).toBe(true);
    expect(input.push(frame, { seq: 14 }).lostFrames).toBe(0);
    expect(input.stats).toMatchObject({
      frames: 5,
      lostFrames: 2,
      reorderedFrames: 2,
      audioMs: 100,
    });
  });

  it('follows the sequence number across its 2^32 wrap', () => {
    const input = new AudioInput(fmt({}));
    const frame = new Uint8Array(640);
    input.push(frame, { seq: 0xffffffff });
    expect(input.push(frame, { seq: 0 })).toMatchObject({ lostFrames: 0, reordered: false });
    expect(input.push(frame, { seq: 2 }).lostFrames).toBe(1);
  });

  it('detects a loss from timestamps when frames carry no sequence number', () => {
    const input = new AudioInput(fmt({}));
    const frame = new Uint8Array(640);
    input.push(frame, { timestampMs: 1000 });
    input.push(frame, { timestampMs: 1021 });
    expect(input.push(frame, { timestampMs: 1100 }).lostFrames).toBe(3);
  });

  it('treats an empty payload as a lost frame', () => {
    const result = new AudioInput(fmt({})).push(new Uint8Array(0), { seq: 0 });
    expect(result.lostFrames).toBe(1);
    expect(result.tracks[0]!.length).toBe(320);
  });

  it('caps the concealment of a huge gap and reports it', () => {
    const input = new AudioInput(fmt({}), { maxGapMs: 1000 });
    input.push(new Uint8Array(640), { seq: 0 });
    const result = input.push(new Uint8Array(640), { seq: 1_000_000 });
    expect(codes(result.errors)).toEqual(['UT_ERR_FRAME_LOSS']);
    expect(result.tracks[0]!.length).toBe(16000 + 320);
  });

  it('resamples 48 kHz stereo, split into two tracks for a separate layout', () => {
    const input = new AudioInput(fmt({ sampleRateHz: 48000, channels: 2 }), {
      channelLayout: 'separate',
    });
    const left = tone(500, 48000, 48000);
    const right = tone(1500, 48000, 48000, 0.25);
    const inter = new Float32Array(96000);
    for (let i = 0; i < 48000; i++) [inter[2 * i], inter[2 * i + 1]] = [left[i]!, right[i]!];
    const bytes = pcm16Bytes(inter);
    const parts: Float32Array[][] = [];
    for (let at = 0, seq = 0; at < bytes.length; at += 3840, seq++)
      parts.push(input.push(bytes.subarray(at, at + 3840), { seq }).tracks);
    const flushed = input.flush();
    const l = concatFloat([...parts.map((p) => p[0]!), flushed[0]!]);
    const r = concatFloat([...parts.map((p) => p[1]!), flushed[1]!]);
    expect(input.trackCount).toBe(2);
    expect(l.length).toBe(16000);
    expect(toneFrequencyHz(l, 16000, 1000, 15000)).toBeCloseTo(500, 0);
    expect(toneFrequencyHz(r, 16000, 1000, 15000)).toBeCloseTo(1500, 0);
    expect(rms(r, 1000, 15000)).toBeCloseTo(0.25 / Math.SQRT2, 2);
  });
});

describe('AudioInput G.711', () => {
  it('decodes mu-law at 8 kHz to 16 kHz at the right level and pitch', () => {
    const input = new AudioInput(fmt({ codec: 'mulaw', sampleRateHz: 8000 }));
    const bytes = encodeMuLaw(tone(440, 8000, 8000));
    const parts: Float32Array[] = [];
    for (let at = 0; at < bytes.length; at += 160)
      parts.push(input.push(bytes.subarray(at, at + 160)).tracks[0]!);
    parts.push(input.flush()[0]!);
    const out = concatFloat(parts);
    expect(out.length).toBe(16000);
    expect(toneFrequencyHz(out, 16000, 1000, 15000)).toBeCloseTo(440, 0);
    expect(20 * Math.log10(rms(out, 1000, 15000) / (0.5 / Math.SQRT2))).toBeCloseTo(0, 0);
  });
});

describe('AudioInput Opus', () => {
  const encodePackets = (signal: Float32Array, frameMs: 20 | 60): Uint8Array[] => {
    const encoder = new Encoder({ channels: 1, sample_rate: 48000, application: 'voip' });
    encoder.expert_frame_duration = frameMs;
    const pcm = floatToPcm16(signal);
    const n = 48 * frameMs;
    const packets: Uint8Array[] = [];
    for (let at = 0; at + n <= pcm.length; at += n)
      packets.push(encoder.encode(pcm.subarray(at, at + n)));
    return packets;
  };

  it('decodes packets of three 20 ms frames and conceals a lost 60 ms packet', () => {
    const packets = encodePackets(tone(400, 48000, 48000 * 3), 60);
    const input = new AudioInput(fmt({ codec: 'opus', sampleRateHz: 48000, frameMs: 60 }));
    const lengths = packets.map((p, seq) =>
      seq === 20 ? 0 : input.push(p, { seq }).tracks[0]!.length,
    );
    expect(lengths.slice(0, 20).every((n) => n === 960)).toBe(true);
    expect(lengths[21]).toBe(2 * 960);
    expect(input.stats.lostFrames).toBe(1);
  });

  it('reports garbage packets, conceals them, and goes on decoding', () => {
    const packets = encodePackets(tone(400, 48000, 48000), 20);
    const input = new AudioInput(fmt({ codec: 'opus', sampleRateHz: 48000 }));
    const outs = packets.map((p, seq) => {
      if (seq === 10) p = Uint8Array.of(0xff, 0x00);
      return input.push(p, { seq });
    });
    expect(codes(outs[10]!.errors)).toEqual(['UT_ERR_OPUS_DECODE']);
    expect(outs.every((o) => o.tracks[0]!.length === 320)).toBe(true);
    const tail = concatFloat(outs.slice(20).map((o) => o.tracks[0]!));
    expect(toneFrequencyHz(tail, 16000)).toBeCloseTo(400, -1);
  });

  it('conceals a loss before the first good packet with silence', () => {
    const input = new AudioInput(fmt({ codec: 'opus', sampleRateHz: 48000 }));
    const result = input.push(new Uint8Array(0), { seq: 0 });
    expect(result.tracks[0]!.length).toBe(320);
  });
});

describe('AudioInput float input', () => {
  it('cleans NaN, Inf and out-of-range samples, reporting each burst once', () => {
    const samples = tone(200, 16000, 3200);
    samples.fill(NaN, 100, 700);
    samples[2000] = Infinity;
    samples[2500] = 3;
    const input = new AudioInput(fmt({}));
    const results = Array.from({ length: 10 }, (_, i) =>
      input.pushFloat32(samples.subarray(i * 320, i * 320 + 320)),
    );
    const flat = results.flatMap((r) => codes(r.errors));
    expect(flat).toEqual(['UT_ERR_NON_FINITE_SAMPLES', 'UT_ERR_NON_FINITE_SAMPLES']);
    const out = concatFloat(results.map((r) => r.tracks[0]!));
    expect(out.every((v) => Number.isFinite(v) && Math.abs(v) <= 1)).toBe(true);
    expect(out[2500]).toBe(1);
    expect(samples[2500]).toBe(3);
  });
});
