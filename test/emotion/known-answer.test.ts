/**
 * Known answers on the espeak-ng fixtures: real prosody frames and the known text through the
 * observer, with the population prior as the speaker baseline (one utterance each).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { EmotionResult } from '../../src/pipeline/stage-ports.js';
import { loadEmotionFixtures, newObserver, runUtterance } from './emotion-test-helpers.js';

const finals = new Map<string, EmotionResult>();
const updates = new Map<string, EmotionResult[]>();

beforeAll(() => {
  for (const [name, fixture] of loadEmotionFixtures()) {
    const results = runUtterance(newObserver(), fixture.samples, fixture.text);
    finals.set(name, results.find((r) => r.type === 'emotion.final')!);
    updates.set(
      name,
      results.filter((r) => r.type === 'emotion.update'),
    );
  }
});

describe('emotion of the espeak-ng fixtures', () => {
  it('gives one final per utterance, with the segment id, and updates during speech', () => {
    for (const [name, final] of finals) {
      expect(final, name).toBeDefined();
      expect(final.segmentId).toBe('s1');
      expect(updates.get(name)!.length, name).toBeGreaterThanOrEqual(3);
    }
  });

  it('hears the angry line as more aroused than the calm one, and negative', () => {
    const angry = finals.get('negative_angry')!;
    expect(angry.arousal).toBeGreaterThan(finals.get('neutral_calm')!.arousal);
    expect(angry.valence).toBeLessThan(0);
    expect(angry.tags[0]!.label).toBe('angry');
  });

  it('hears the happy line as positive', () => {
    const happy = finals.get('positive_happy')!;
    expect(happy.valence).toBeGreaterThan(0);
    expect(happy.tags[0]!.label).toBe('happy');
  });

  it('hears the sad line as calmer than the calm one, and negative', () => {
    const sad = finals.get('negative_sad')!;
    expect(sad.arousal).toBeLessThan(finals.get('neutral_calm')!.arousal);
    expect(sad.valence).toBeLessThan(0);
    expect(sad.tags[0]!.label).toBe('sad');
  });

  it('reads "not happy" as negative', () => {
    expect(finals.get('negated_positive')!.valence).toBeLessThan(0);
  });

  it('tags the calm request neutral and reports its evidence', () => {
    const calm = finals.get('neutral_calm')!;
    expect(calm.tags[0]!.label).toBe('neutral');
    expect(calm.uncertain).toBe(false);
    expect(Object.keys(calm.evidence.voice).sort()).toEqual(['energyZ', 'f0Z', 'rateZ', 'voicedZ']);
    expect(calm.evidence.textValence).not.toBeNull();
  });
});
