import { describe, expect, it } from 'vitest';
import { countWords, SentenceChunker } from '../../src/tts/sentence-chunker.js';

/** Feeds `text` in pieces of the given sizes (cycled) and returns every chunk, flush included. */
function chunk(text: string, pieceSizes: number[] = [text.length || 1]): string[] {
  const chunker = new SentenceChunker();
  const out: string[] = [];
  for (let at = 0, k = 0; at < text.length; k++) {
    const size = pieceSizes[k % pieceSizes.length]!;
    out.push(...chunker.push(text.slice(at, at + size)));
    at += size;
  }
  return [...out, ...chunker.flush()];
}

/** Splittings every case must survive: whole, one character at a time, and uneven pieces. */
const SPLITS: Array<[string, number[] | undefined]> = [
  ['whole', undefined],
  ['per character', [1]],
  ['uneven pieces', [3, 1, 5, 2, 7]],
];

const CASES: Array<[string, string, string[]]> = [
  ['two plain sentences', 'Hello there. How are you?', ['Hello there.', 'How are you?']],
  [
    'first clause released at a comma after four words',
    'Well, I think that we can, of course, do it. Then we go.',
    ['Well, I think that we can,', 'of course, do it.', 'Then we go.'],
  ],
  ['short first clause is kept whole', 'Yes, sure. Fine.', ['Yes, sure.', 'Fine.']],
  [
    'title abbreviations',
    'Dr. Smith met Mr. Jones. They talked.',
    ['Dr. Smith met Mr. Jones.', 'They talked.'],
  ],
  [
    'e.g. and i.e.',
    'Use fruit, e.g. apples. Or i.e. pears.',
    ['Use fruit, e.g. apples.', 'Or i.e. pears.'],
  ],
  [
    'e.g. followed by a comma',
    'Some items e.g., apples are red. Ok.',
    ['Some items e.g., apples are red.', 'Ok.'],
  ],
  [
    'etc. before a capital ends a sentence',
    'Buy milk, eggs, bread etc. Then go.',
    ['Buy milk, eggs, bread etc.', 'Then go.'],
  ],
  [
    'etc. before lowercase does not',
    'Milk, eggs etc. are food. Ok.',
    ['Milk, eggs etc. are food.', 'Ok.'],
  ],
  ['U.S. mid-sentence', 'The U.S. economy grew. Good.', ['The U.S. economy grew.', 'Good.']],
  [
    'U.S. at a sentence end',
    'He moved to the U.S. Then he left.',
    ['He moved to the U.S.', 'Then he left.'],
  ],
  ['a.m. times', 'Meet at 10:30 a.m. tomorrow. Bye.', ['Meet at 10:30 a.m. tomorrow.', 'Bye.']],
  ['initials', 'J. K. Rowling wrote it. Yes.', ['J. K. Rowling wrote it.', 'Yes.']],
  ['decimals', 'Pi is 3.14 roughly. Right.', ['Pi is 3.14 roughly.', 'Right.']],
  ['money with thousands', 'It costs $1,000.50 today. Wow.', ['It costs $1,000.50 today.', 'Wow.']],
  [
    'number at a sentence end',
    'I counted to 3. Then I stopped.',
    ['I counted to 3.', 'Then I stopped.'],
  ],
  ['times', 'The meeting is at 10:30 sharp. Ok.', ['The meeting is at 10:30 sharp.', 'Ok.']],
  [
    'URL dots',
    'Visit https://www.example.com/a.b?c=1 now. Then rest.',
    ['Visit https://www.example.com/a.b?c=1 now.', 'Then rest.'],
  ],
  ['URL at a sentence end', 'Go to example.com. It helps.', ['Go to example.com.', 'It helps.']],
  [
    'emails',
    'Mail john.doe@mail.example.org today. Thanks.',
    ['Mail john.doe@mail.example.org today.', 'Thanks.'],
  ],
  ['ellipsis before lowercase', 'Well... maybe later. Ok.', ['Well... maybe later.', 'Ok.']],
  ['ellipsis before a capital', 'Hmm... Let me think. Ok.', ['Hmm...', 'Let me think.', 'Ok.']],
  ['unicode ellipsis', 'Wait… Now go. Ok.', ['Wait…', 'Now go.', 'Ok.']],
  ['quote after the period', 'He said "Stop." Then he left.', ['He said "Stop."', 'Then he left.']],
  ['bracket after the period', 'It works (mostly.) Next one.', ['It works (mostly.)', 'Next one.']],
  ['curly quotes', 'She said “Go!” We went.', ['She said “Go!”', 'We went.']],
  ['?! runs', 'Really?! No way. Ok.', ['Really?!', 'No way.', 'Ok.']],
  [
    'numbered list lines',
    'Steps:\n1. Open it\n2. Close it',
    ['Steps:', '1. Open it', '2. Close it'],
  ],
  ['Chinese', '你好。今天天气很好！你呢？', ['你好。', '今天天气很好！', '你呢？']],
  ['Chinese first clause', '我今天很高兴，因为天气好。', ['我今天很高兴，', '因为天气好。']],
  ['Japanese with closing bracket', '「はい。」と言った。', ['「はい。」', 'と言った。']],
  ['Arabic question mark', 'كيف حالك؟ أنا بخير.', ['كيف حالك؟', 'أنا بخير.']],
  ['Arabic comma', 'مرحبا يا صديقي العزيز، كيف حالك؟', ['مرحبا يا صديقي العزيز،', 'كيف حالك؟']],
  ['Hindi danda', 'मैं ठीक हूँ। धन्यवाद।', ['मैं ठीक हूँ।', 'धन्यवाद।']],
  ['tail without a period is flushed', 'One sentence. And a tail', ['One sentence.', 'And a tail']],
  ['whitespace only', '   \n  ', []],
  [
    'em dash clause',
    'I really think that—honestly—it works. Ok.',
    ['I really think that—', 'honestly—it works.', 'Ok.'],
  ],
];

describe('SentenceChunker', () => {
  for (const [split, sizes] of SPLITS) {
    describe(`fed ${split}`, () => {
      for (const [name, text, expected] of CASES) {
        it(name, () => expect(chunk(text, sizes)).toEqual(expected));
      }
    });
  }

  it('releases the first clause before the sentence is complete', () => {
    const chunker = new SentenceChunker();
    expect(chunker.push('Sure, I can help you with')).toEqual([]);
    expect(chunker.push(' that, and more')).toEqual(['Sure, I can help you with that,']);
    expect(chunker.push(' later, ok')).toEqual([]);
    expect(chunker.push('. Next')).toEqual(['and more later, ok.']);
    expect(chunker.flush()).toEqual(['Next']);
  });

  it('holds a period at the end of a delta until the next one decides', () => {
    const chunker = new SentenceChunker();
    expect(chunker.push('The value is 3.')).toEqual([]);
    expect(chunker.push('14 exactly')).toEqual([]);
    expect(chunker.push('. So')).toEqual(['The value is 3.14 exactly.']);
  });

  it('holds an abbreviation that needs the next word', () => {
    const chunker = new SentenceChunker();
    expect(chunker.push('Bread, milk etc. ')).toEqual([]);
    expect(chunker.push('and')).toEqual([]);
    expect(chunker.pending).toBe('Bread, milk etc. and');
  });

  it('cuts a run-on text at the last space before the limit', () => {
    const chunker = new SentenceChunker({ maxChunkChars: 40 });
    const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu';
    const chunks = [...chunker.push(words), ...chunker.flush()];
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(40);
    expect(chunks.join(' ')).toBe(words);
  });

  it('releases a clause again after reset', () => {
    const chunker = new SentenceChunker();
    expect(chunker.push('One two three four, five. ')).toEqual(['One two three four,', 'five.']);
    chunker.reset();
    expect(chunker.push('Six seven eight nine, ten')).toEqual(['Six seven eight nine,']);
  });

  it('counts CJK characters as words', () => {
    expect(countWords('hello big world')).toBe(3);
    expect(countWords('你好世界')).toBe(4);
    expect(countWords(' , - ')).toBe(0);
  });
});
