/**
 * A compact English valence lexicon for offline text sentiment, written for this project (no
 * third-party word list is copied). Words are grouped by valence on a -3 .. +3 scale, with the
 * vocabulary of customer calls (refund, cancel, broken, on hold, ...) next to everyday words.
 * Inflections are listed where they are common in speech; matching is on lower-case tokens.
 */

const GROUPS: ReadonlyArray<readonly [score: number, words: string]> = [
  [
    3,
    `excellent amazing wonderful fantastic perfect outstanding brilliant superb awesome
    delighted thrilled love loved loving adore adored ecstatic overjoyed marvelous marvellous
    incredible phenomenal terrific magnificent exceptional best`,
  ],
  [
    2,
    `good great nice happy glad pleased pleasant lovely enjoy enjoyed enjoying liked
    thank thanks thankful grateful appreciate appreciated appreciative helpful excited exciting
    fun beautiful cool impressive impressed satisfied satisfying recommend recommended smooth
    fast quick easy kind friendly polite resolved fixed solved sorted works working relieved
    relief cheerful joy joyful proud win won success successful fabulous gorgeous yay
    wow congratulations welcome comfortable reliable favourite favorite`,
  ],
  [
    1,
    `ok okay fine fair better sure helpfully calm hope hoping hopeful interested
    agree agreed correct yes yeah accurate clear clean safe quickly improved improve
    useful valuable worth support supported understand understood patient patience
    refunded credited reimbursed honest`,
  ],
  [
    -1,
    `problem problems issue issues wait waiting waited slow confused confusing unclear
    difficult hard expensive pricey charge charged fee fees late delay delayed delays missing
    wrong error errors mistake mistakes unfortunately sorry doubt doubtful unsure concern
    concerned concerns complain complaint complaints return cancel cancelled canceled
    cancellation refund dispute strange weird odd tired bored boring meh worried nervous
    anxious afraid scared uneasy lost lose losing alone lonely`,
  ],
  [
    -2,
    `bad poor sad unhappy upset annoyed annoying annoyance frustrated frustrating
    frustration disappointed disappointing disappointment broken broke fail failed failing
    failure fails useless unacceptable rude unhelpful ridiculous hate hated dislike
    unreliable faulty defective damaged crash crashed crashing overcharged hurt hurts pain
    painful cry crying depressed depressing miserable gloomy hopeless fear terrified worse
    stupid nonsense mess messed ignored lied lie lying stuck incompetent waste wasted
    angry mad ugh panic panicking stressed stress stressful`,
  ],
  [
    -3,
    `terrible horrible awful worst disgusting disgusted furious outraged outrageous
    pathetic appalling atrocious abysmal hateful livid enraged infuriating infuriated
    scam scammed fraud fraudulent nightmare disaster disastrous devastated heartbroken
    despise loathe unbearable shameful disgrace`,
  ],
];

/** Multi-word expressions, matched before single words (lower-case, single spaces). */
const PHRASES: ReadonlyArray<readonly [phrase: string, score: number]> = [
  ['thank you', 2],
  ['thanks a lot', 2],
  ['no problem', 1],
  ['no worries', 1],
  ['well done', 2],
  ['makes sense', 1],
  ['money back', -2],
  ['on hold', -1],
  ['fed up', -3],
  ['waste of time', -3],
  ['waste of money', -3],
  ['speak to a manager', -2],
  ['talk to a manager', -2],
  ['does not work', -2],
  ["doesn't work", -2],
  ['not working', -2],
  ['stopped working', -2],
  ['give up', -2],
  ['let down', -2],
  ['rip off', -3],
  ['ripped off', -3],
];

/** Valence of single words, -3 .. +3. */
export const WORD_VALENCE: ReadonlyMap<string, number> = new Map(
  GROUPS.flatMap(([score, words]) =>
    words
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => [w, score] as const),
  ),
);

/** Phrases as token lists, longest first so "waste of time" wins over "waste". */
export const PHRASE_VALENCE: ReadonlyArray<{ tokens: string[]; score: number }> = PHRASES.map(
  ([phrase, score]) => ({ tokens: phrase.split(' '), score }),
).sort((a, b) => b.tokens.length - a.tokens.length);

/** Words that flip the valence of a sentiment word up to three tokens after them. */
export const NEGATORS: ReadonlySet<string> = new Set([
  'not',
  'no',
  'never',
  'nothing',
  'nobody',
  'none',
  'neither',
  'nor',
  'without',
  'hardly',
  'cannot',
  "can't",
  "don't",
  "doesn't",
  "didn't",
  "isn't",
  "wasn't",
  "aren't",
  "weren't",
  "won't",
  "wouldn't",
  "shouldn't",
  "couldn't",
  "haven't",
  "hasn't",
  "hadn't",
  "ain't",
  'cant',
  'dont',
  'doesnt',
  'didnt',
  'isnt',
  'wasnt',
  'wont',
]);

/** Degree words: multipliers of the next sentiment word (up to two tokens after). */
export const INTENSIFIERS: ReadonlyMap<string, number> = new Map([
  ['very', 1.3],
  ['really', 1.3],
  ['so', 1.25],
  ['too', 1.2],
  ['extremely', 1.5],
  ['incredibly', 1.5],
  ['absolutely', 1.5],
  ['totally', 1.4],
  ['completely', 1.4],
  ['utterly', 1.5],
  ['super', 1.3],
  ['truly', 1.3],
  ['highly', 1.3],
  ['deeply', 1.3],
  ['most', 1.3],
  ['such', 1.2],
  ['quite', 1.1],
  ['pretty', 1.1],
  ['particularly', 1.2],
  ['slightly', 0.6],
  ['somewhat', 0.7],
  ['a-bit', 0.7],
  ['kind-of', 0.7],
  ['sort-of', 0.7],
  ['little', 0.7],
  ['barely', 0.5],
  ['mildly', 0.6],
  ['fairly', 0.9],
  ['rather', 0.9],
]);

/** Contrast words: what follows them weighs more than what precedes them. */
export const CONTRASTS: ReadonlySet<string> = new Set([
  'but',
  'however',
  'although',
  'though',
  'yet',
]);
