import { describe, expect, it } from 'vitest';
import {
  POPULATION_PRIORS,
  SpeakerBaseline,
  voiceValues,
} from '../../src/emotion/speaker-baseline.js';

const values = (f0: number, energy: number, rate = 5.5, voiced = 0.55) => ({
  f0,
  energy,
  rate,
  voiced,
});

describe('SpeakerBaseline', () => {
  it('starts at the population prior', () => {
    const b = new SpeakerBaseline();
    expect(b.zScores(values(POPULATION_PRIORS.f0.mean, POPULATION_PRIORS.energy.mean))).toEqual({
      f0Z: 0,
      energyZ: 0,
      rateZ: 0,
      voicedZ: 0,
    });
    expect(b.zScores(values(POPULATION_PRIORS.f0.mean + 4.5, -24)).f0Z).toBeCloseTo(1, 5);
  });

  it('learns a quiet speaker so that their raised voice reads as raised', () => {
    const b = new SpeakerBaseline();
    const quietLoud = values(1.65, -34);
    expect(b.zScores(quietLoud).energyZ).toBeLessThan(-1);
    for (let i = 0; i < 60; i++)
      b.update(values(1.65 + (i % 2 ? 0.5 : -0.5), -40 + (i % 2 ? 1 : -1)), 2);
    // The same -34 dBFS is now a shout for this speaker.
    expect(b.zScores(quietLoud).energyZ).toBeGreaterThan(1.5);
    expect(b.describe('energy').sd).toBeLessThan(4);
    expect(b.describe('energy').mean).toBeCloseTo(-40, 0);
  });

  it('forgets old speech beyond its memory', () => {
    const b = new SpeakerBaseline({ memoryS: 10 });
    for (let i = 0; i < 30; i++) b.update(values(0, -20), 2);
    for (let i = 0; i < 30; i++) b.update(values(0, -30), 2);
    expect(b.describe('energy').mean).toBeLessThan(-29);
  });

  it('keeps a floor under the spread and clips z-scores', () => {
    const b = new SpeakerBaseline();
    for (let i = 0; i < 50; i++) b.update(values(2, -24), 2);
    expect(b.describe('f0').sd).toBe(POPULATION_PRIORS.f0.minSd);
    expect(b.zScores(values(40, -24)).f0Z).toBe(4);
  });

  it('ignores absent features and zero-weight updates', () => {
    const b = new SpeakerBaseline();
    b.update({ f0: undefined, energy: -30, rate: undefined, voiced: 0.5 }, 0);
    expect(b.utteranceCount).toBe(0);
    expect(
      b.zScores({ f0: undefined, energy: undefined, rate: undefined, voiced: undefined }),
    ).toEqual({ f0Z: 0, energyZ: 0, rateZ: 0, voicedZ: 0 });
  });

  it('reads F0 in semitones re 100 Hz from a prosody summary', () => {
    const v = voiceValues({
      durationMs: 1000,
      f0MeanHz: 200,
      f0RangeSemitones: 3,
      f0SlopeHzPerS: 0,
      energyMeanDb: -20,
      energyVarianceDb: 4,
      voicedRatio: 0.5,
      speakingRateSylPerS: 4,
    });
    expect(v.f0).toBeCloseTo(12, 5);
    expect(v.rate).toBe(4);
    expect(
      voiceValues({
        durationMs: 1000,
        f0MeanHz: 0,
        f0RangeSemitones: 0,
        f0SlopeHzPerS: 0,
        energyMeanDb: -60,
        energyVarianceDb: 0,
        voicedRatio: 0,
        speakingRateSylPerS: 0,
      }).f0,
    ).toBeUndefined();
  });
});
