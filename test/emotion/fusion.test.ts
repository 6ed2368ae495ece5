import { describe, expect, it } from 'vitest';
import { defaultModel, fuseEmotion } from '../../src/emotion/fusion.js';
import { textSentiment } from '../../src/emotion/text-sentiment.js';

const loud = { f0Z: 2, energyZ: 2.5, rateZ: 1.5, voicedZ: 0.5 };

describe('fuseEmotion', () => {
  it('marks a loud utterance without any sentiment word uncertain: voice alone has no valence', () => {
    const result = fuseEmotion(defaultModel(), {
      voice: loud,
      voicedMs: 3000,
      text: textSentiment('and so my fellow citizens ask what you can do'),
    });
    expect(result.arousal).toBeGreaterThan(0.5);
    expect(result.uncertain).toBe(true);
    expect(result.tags[0]!.label).toBe('uncertain');
  });

  it('names the emotion when the words carry the valence', () => {
    const result = fuseEmotion(defaultModel(), {
      voice: loud,
      voicedMs: 3000,
      text: textSentiment('this is terrible, I am furious and I want my money back'),
    });
    expect(result.uncertain).toBe(false);
    expect(result.tags[0]!.label).toBe('angry');
    expect(result.valence).toBeLessThan(0);
  });
});
