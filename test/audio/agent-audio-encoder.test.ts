import { Decoder } from '@evan/opus';
import { describe, expect, it } from 'vitest';
import {
  createAgentAudioEncoder,
  type EncodedAudioFrame,
} from '../../src/audio/agent-audio-encoder.js';
import { decodeALaw, decodeMuLaw } from '../../src/audio/g711.js';
import { pcm16ToFloat } from '../../src/audio/audio-input.js';
import { concatFloat, rms, tone, toneFrequencyHz } from './signal-helpers.js';

const encodeAll = (
  codec: 'opus' | 'pcm16' | 'mulaw' | 'alaw',
  sampleRateHz: number,
  input: Float32Array,
  inputRateHz: number,
) => {
  const encoder = createAgentAudioEncoder({ codec, sampleRateHz, frameMs: 20 });
  const frames: EncodedAudioFrame[] = [];
  for (let at = 0; at < input.length; at += 1234)
    frames.push(...encoder.push(input.subarray(at, at + 1234), inputRateHz));
  frames.push(...encoder.flush());
  return frames;
};

describe('createAgentAudioEncoder', () => {
  it('cuts PCM16 into whole 20 ms frames at the output rate, padding the last', () => {
    const frames = encodeAll('pcm16', 16000, tone(1000, 24000, 24000), 24000);
    expect(frames).toHaveLength(50);
    expect(frames.every((f) => f.payload.length === 640 && f.durationMs === 20)).toBe(true);
    const out = concatFloat(frames.map((f) => pcm16ToFloat(f.payload)));
    expect(toneFrequencyHz(out, 16000, 1000, 15000)).toBeCloseTo(1000, 0);
    expect(20 * Math.log10(rms(out, 1000, 15000) / (0.5 / Math.SQRT2))).toBeCloseTo(0, 1);
  });

  it('encodes mu-law and A-law at 8 kHz in 160-byte frames', () => {
    for (const [codec, decode] of [
      ['mulaw', decodeMuLaw],
      ['alaw', decodeALaw],
    ] as const) {
      const frames = encodeAll(codec, 8000, tone(440, 22050, 22050), 22050);
      expect(frames).toHaveLength(50);
      expect(frames.every((f) => f.payload.length === 160)).toBe(true);
      const out = concatFloat(frames.map((f) => decode(f.payload)));
      expect(toneFrequencyHz(out, 8000, 500, 7500)).toBeCloseTo(440, 0);
    }
  });

  it('encodes Opus that a decoder plays back as the same tone', () => {
    const frames = encodeAll('opus', 48000, tone(600, 24000, 24000), 24000);
    expect(frames).toHaveLength(50);
    const decoder = new Decoder({ channels: 1, sample_rate: 48000 });
    const out = concatFloat(frames.map((f) => pcm16ToFloat(decoder.decode(f.payload))));
    expect(out.length).toBe(48000);
    expect(toneFrequencyHz(out, 48000, 4800, 43000)).toBeCloseTo(600, 0);
    expect(Math.abs(20 * Math.log10(rms(out, 4800, 43000) / (0.5 / Math.SQRT2)))).toBeLessThan(1.5);
  });

  it('holds a partial frame until flush, then pads it with silence', () => {
    const encoder = createAgentAudioEncoder({ codec: 'pcm16', sampleRateHz: 16000, frameMs: 20 });
    expect(encoder.push(new Float32Array(100).fill(0.5), 16000)).toEqual([]);
    const [last, ...rest] = encoder.flush();
    expect(rest).toEqual([]);
    const samples = pcm16ToFloat(last!.payload);
    expect(samples.length).toBe(320);
    expect(samples[99]).toBeCloseTo(0.5, 3);
    expect(samples[100]).toBe(0);
    expect(encoder.flush()).toEqual([]);
  });

  it('drops buffered audio on reset', () => {
    const encoder = createAgentAudioEncoder({ codec: 'mulaw', sampleRateHz: 8000, frameMs: 20 });
    encoder.push(new Float32Array(100).fill(0.5), 8000);
    encoder.reset();
    expect(encoder.flush()).toEqual([]);
  });

  it('rejects frame sizes the codec cannot take', () => {
    expect(() =>
      createAgentAudioEncoder({ codec: 'opus', sampleRateHz: 48000, frameMs: 25 }),
    ).toThrow(RangeError);
    expect(() =>
      createAgentAudioEncoder({ codec: 'opus', sampleRateHz: 44100, frameMs: 20 }),
    ).toThrow(RangeError);
    expect(() =>
      createAgentAudioEncoder({ codec: 'pcm16', sampleRateHz: 8000, frameMs: 0.1 }),
    ).toThrow(RangeError);
  });
});
