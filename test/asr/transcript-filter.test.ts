import { describe, expect, it } from 'vitest';
import {
  compressionRatio,
  hasRepetition,
  judgeTranscript,
} from '../../src/asr/transcript-filter.js';
import { splitWords, LocalAgreement } from '../../src/asr/local-agreement.js';

const quiet = new Float32Array(16_000).fill(0.001);
const loud = Float32Array.from({ length: 16_000 }, (_, i) => 0.3 * Math.sin(i / 7));

describe('transcript filter', () => {
  it('keeps ordinary text', () => {
    expect(judgeTranscript({ text: 'ask not what your country can do for you' }, loud)).toBeNull();
  });

  it('drops empty and punctuation-only text', () => {
    expect(judgeTranscript({ text: '  ' }, loud)).toBe('empty');
    expect(judgeTranscript({ text: ' ... !?' }, loud)).toBe('empty');
  });

  it('drops loops by compression ratio and by repetition', () => {
    const loop = 'and then we went to the shop '.repeat(12);
    expect(compressionRatio(loop)).toBeGreaterThan(2.4);
    expect(judgeTranscript({ text: loop }, loud)).toBe('compression-ratio');
    expect(hasRepetition('yes yes yes yes')).toBe(true);
    expect(hasRepetition('the cat sat on the mat')).toBe(false);
    expect(judgeTranscript({ text: 'go on go on go on go on' }, loud)).toBe('repetition');
  });

  it('drops a decode the model marks as no speech unless it is confident', () => {
    expect(
      judgeTranscript({ text: 'hello there', noSpeechProb: 0.9, avgLogprob: -1.5 }, loud),
    ).toBe('no-speech');
    expect(judgeTranscript({ text: 'hello there', noSpeechProb: 0.9 }, loud)).toBe('no-speech');
    expect(
      judgeTranscript({ text: 'hello there', noSpeechProb: 0.9, avgLogprob: -0.2 }, loud),
    ).toBeNull();
  });

  it('drops known hallucinations on low-energy audio only', () => {
    expect(judgeTranscript({ text: ' Thank you.' }, quiet)).toBe('hallucination');
    expect(judgeTranscript({ text: 'Thanks for watching!' }, quiet)).toBe('hallucination');
    expect(judgeTranscript({ text: ' Thank you.' }, loud)).toBeNull();
  });
});

describe('LocalAgreement-2', () => {
  it('commits words two consecutive hypotheses agree on', () => {
    const la = new LocalAgreement();
    la.update('ask not');
    expect(la.state).toMatchObject({ committed: '', tentative: 'ask not' });
    la.update('ask not what your');
    expect(la.state).toMatchObject({ committed: 'ask not', tentative: 'what your' });
    la.update('Ask not, what you country');
    expect(la.state).toMatchObject({ committed: 'ask not what', tentative: 'you country' });
  });

  it('never takes committed text back when a later hypothesis disagrees', () => {
    const la = new LocalAgreement();
    la.update('one two three');
    la.update('one two three four');
    const before = la.state.committed;
    la.update('won too');
    expect(la.state.committed).toBe(before);
    la.update('');
    expect(la.state.committed.startsWith(before)).toBe(true);
  });

  it('freezes a piece and carries its text as the prompt', () => {
    const la = new LocalAgreement();
    la.update('alpha beta');
    la.update('alpha beta gamma');
    la.freezePiece('alpha beta gamma delta');
    expect(la.state.committed).toBe('alpha beta gamma delta');
    expect(la.frozenText).toBe('alpha beta gamma delta');
    la.update('epsilon');
    la.update('epsilon zeta');
    expect(la.state).toMatchObject({
      committed: 'alpha beta gamma delta epsilon',
      tentative: 'zeta',
    });
    expect(splitWords(' a  b ')).toEqual(['a', 'b']);
  });
});
