import { describe, expect, it } from 'vitest';
import { textSentiment } from '../../src/emotion/text-sentiment.js';

const v = (text: string): number => textSentiment(text).valence;

describe('textSentiment', () => {
  it('scores plain positive and negative customer lines on the right side', () => {
    expect(v('Thank you, that was great')).toBeGreaterThan(0.5);
    expect(v('This is terrible, the product arrived broken')).toBeLessThan(-0.5);
    expect(v('I want to cancel and get a refund')).toBeLessThan(0);
  });

  it('gives 0 for text without sentiment words, and for empty text', () => {
    expect(v('I would like to check the status of my order')).toBe(0);
    expect(v('')).toBe(0);
    expect(textSentiment('').sentimentWords).toBe(0);
  });

  it('flips a negated word within three tokens', () => {
    expect(v('I am happy')).toBeGreaterThan(0);
    expect(v('I am not happy')).toBeLessThan(0);
    expect(v("it doesn't seem good")).toBeLessThan(0);
    expect(v('this is not bad')).toBeGreaterThan(0);
    // Beyond the window the negator no longer reaches.
    expect(v('no, the agent on the phone was helpful')).toBeGreaterThan(0);
  });

  it('scales with intensifiers and diminishers', () => {
    expect(v('very good')).toBeGreaterThan(v('good'));
    expect(v('extremely bad')).toBeLessThan(v('bad'));
    expect(v('slightly annoyed')).toBeGreaterThan(v('annoyed'));
  });

  it('weighs ALL CAPS and exclamations as emphasis', () => {
    expect(v('this is TERRIBLE')).toBeLessThan(v('this is terrible'));
    expect(v('this is terrible!!!')).toBeLessThan(v('this is terrible'));
    expect(textSentiment('this is terrible!!!').emphasis).toBeGreaterThan(
      textSentiment('this is terrible').emphasis,
    );
  });

  it('lets the clause after "but" dominate', () => {
    expect(v('The agent was nice but the refund never came and it is broken')).toBeLessThan(0);
    expect(v('It was slow but in the end the team was wonderful')).toBeGreaterThan(0);
  });

  it('matches phrases before single words', () => {
    expect(v('what a waste of time')).toBeLessThan(-0.6);
    expect(v('no problem')).toBeGreaterThan(0);
    expect(v('I want my money back')).toBeLessThan(0);
  });

  it('stays within [-1, 1] on piled-up words', () => {
    const worst = v('TERRIBLE AWFUL HORRIBLE disgusting scam fraud nightmare!!!!!!');
    expect(worst).toBeGreaterThanOrEqual(-1);
    expect(worst).toBeLessThan(-0.95);
    expect(v('amazing wonderful fantastic perfect love')).toBeLessThanOrEqual(1);
  });
});
