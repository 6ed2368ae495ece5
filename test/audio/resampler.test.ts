import { describe, expect, it } from 'vitest';
import { Resampler, resample } from '../../src/audio/resampler.js';
import { concatFloat, rms, tone, toneFrequencyHz } from './signal-helpers.js';

const PAIRS: [number, number][] = [
  [8000, 16000],
  [24000, 16000],
  [44100, 16000],
  [48000, 16000],
  [16000, 8000],
  [16000, 24000],
  [16000, 48000],
  [22050, 48000],
];

describe('resample', () => {
  for (const [fromHz, toHz] of PAIRS) {
    it(`keeps a 1 kHz tone at 1 kHz within 0.5 dB, ${fromHz} -> ${toHz} Hz`, () => {
      const out = resample(tone(1000, fromHz, fromHz), fromHz, toHz);
      expect(out.length).toBe(toHz);
      const from = Math.round(toHz * 0.1);
      const to = Math.round(toHz * 0.9);
      expect(toneFrequencyHz(out, toHz, from, to)).toBeCloseTo(1000, 1);
      const lossDb = 20 * Math.log10(rms(out, from, to) / (0.5 / Math.SQRT2));
      expect(Math.abs(lossDb)).toBeLessThan(0.5);
    });
  }

  it('removes a tone above the new Nyquist frequency instead of folding it down', () => {
    const out = resample(tone(10_000, 48000, 48000), 48000, 16000);
    expect(20 * Math.log10(rms(out, 1000, 15000) / (0.5 / Math.SQRT2))).toBeLessThan(-60);
  });

  it('returns a copy for equal rates', () => {
    const input = tone(440, 16000, 100);
    const out = resample(input, 16000, 16000);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
  });

  it('rejects rates that are not positive integers', () => {
    expect(() => new Resampler(0, 16000)).toThrow(RangeError);
    expect(() => new Resampler(44100.5, 16000)).toThrow(RangeError);
  });
});

describe('Resampler streaming', () => {
  for (const [fromHz, toHz] of [...PAIRS, [44101, 16000] as [number, number]]) {
    it(`gives exactly the one-shot samples when fed in odd chunks, ${fromHz} -> ${toHz} Hz`, () => {
      const input = Float32Array.from(
        { length: fromHz / 2 },
        (_, i) => Math.sin(i * 0.01) * Math.cos(i * 0.37),
      );
      const whole = resample(input, fromHz, toHz);
      const resampler = new Resampler(fromHz, toHz);
      const parts: Float32Array[] = [];
      const sizes = [1, 7, 160, 441, 960, 3, 0];
      for (let at = 0, k = 0; at < input.length; k++) {
        const n = sizes[k % sizes.length]!;
        parts.push(resampler.push(input.subarray(at, at + n)));
        at += n;
      }
      parts.push(resampler.flush());
      expect(concatFloat(parts)).toEqual(whole);
    });
  }

  it('holds back no more than half its filter while streaming', () => {
    const resampler = new Resampler(48000, 16000);
    let out = 0;
    for (let i = 0; i < 50; i++) out += resampler.push(tone(300, 48000, 960)).length;
    expect(out).toBeGreaterThan(16000 - 30);
    expect(out + resampler.flush().length).toBe(16000);
  });

  it('starts clean after flush', () => {
    const resampler = new Resampler(8000, 16000);
    const input = tone(700, 8000, 800);
    const first = concatFloat([resampler.push(input), resampler.flush()]);
    const second = concatFloat([resampler.push(input), resampler.flush()]);
    expect(second).toEqual(first);
  });
});
