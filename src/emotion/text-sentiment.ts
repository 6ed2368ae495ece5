/**
 * Offline text valence in [-1, 1] from the lexicon in `lexicon.ts`, no model download:
 * negation within a three-token window, degree words (very, slightly, ...), ALL CAPS and
 * exclamation emphasis, and contrast ("but") clause weighting. Rules in the spirit of
 * rule-based sentiment analysers such as VADER; the word list and constants are our own.
 */
import { CONTRASTS, INTENSIFIERS, NEGATORS, PHRASE_VALENCE, WORD_VALENCE } from './lexicon.js';

/** Result of scoring one text. */
export interface TextSentiment {
  /** -1 (negative) .. 1 (positive); 0 when no sentiment word was found. */
  valence: number;
  /** 0 .. 1: exclamations, ALL CAPS words and intensifiers, a hint of arousal. */
  emphasis: number;
  /** Sentiment words and phrases found. */
  sentimentWords: number;
  /** Tokens in the text. */
  tokens: number;
}

/** A negated sentiment word keeps this share of its strength, with the sign flipped. */
const NEGATION_FACTOR = -0.75;
/** Tokens after a negator that it still reaches. */
const NEGATION_WINDOW = 3;
/** An ALL CAPS sentiment word (in text that is not all caps) weighs this much more. */
const CAPS_FACTOR = 1.3;
/** Weights of the clause before and after a contrast word. */
const BEFORE_CONTRAST = 0.5;
const AFTER_CONTRAST = 1.5;
/** Each exclamation mark (up to four) adds this to the magnitude of the sum, in lexicon units. */
const EXCLAMATION_BOOST = 0.3;
/** Squashing constant: valence = sum / sqrt(sum^2 + ALPHA); one -3 word gives about -0.77. */
const ALPHA = 6;

/** Two-word degree expressions are joined into one token before scoring. */
const JOINED = new Map([
  ['a bit', 'a-bit'],
  ['kind of', 'kind-of'],
  ['sort of', 'sort-of'],
]);

interface Token {
  lower: string;
  caps: boolean;
}

/** Scores the valence of English text. Empty or sentiment-free text gives valence 0. */
export function textSentiment(text: string): TextSentiment {
  const tokens = tokenize(text);
  const exclamations = Math.min(4, (text.match(/!/g) ?? []).length);
  const allCapsText = tokens.length > 0 && tokens.every((t) => t.caps || t.lower.length < 2);

  const scores: number[] = new Array(tokens.length).fill(0);
  let sentimentWords = 0;
  let intensifiers = 0;
  let capsWords = 0;
  for (let i = 0; i < tokens.length; i++) {
    const phrase = matchPhrase(tokens, i);
    const base = phrase?.score ?? WORD_VALENCE.get(tokens[i]!.lower);
    if (INTENSIFIERS.has(tokens[i]!.lower) && INTENSIFIERS.get(tokens[i]!.lower)! > 1)
      intensifiers++;
    if (base === undefined || base === 0) continue;

    let score = base;
    if (tokens[i]!.caps && !allCapsText && tokens[i]!.lower.length > 1) {
      score *= CAPS_FACTOR;
      capsWords++;
    }
    score *= degreeBefore(tokens, i);
    if (negatedBefore(tokens, i)) score *= NEGATION_FACTOR;
    scores[i] = score;
    sentimentWords++;
    if (phrase) i += phrase.tokens.length - 1;
  }

  let sum = weightContrast(tokens, scores).reduce((a, b) => a + b, 0);
  if (sum !== 0) sum += Math.sign(sum) * EXCLAMATION_BOOST * exclamations;

  const valence = sum / Math.sqrt(sum * sum + ALPHA);
  const emphasis = Math.min(
    1,
    0.2 * exclamations +
      0.25 * capsWords +
      0.15 * intensifiers +
      (allCapsText && tokens.length > 1 ? 0.4 : 0),
  );
  return { valence: clamp(valence), emphasis, sentimentWords, tokens: tokens.length };
}

function tokenize(text: string): Token[] {
  const raw = text.match(/[A-Za-z]+(?:['’][A-Za-z]+)*/g) ?? [];
  const tokens: Token[] = [];
  for (let i = 0; i < raw.length; i++) {
    const word = raw[i]!.replace(/’/g, "'");
    const lower = word.toLowerCase();
    const joined =
      i + 1 < raw.length ? JOINED.get(`${lower} ${raw[i + 1]!.toLowerCase()}`) : undefined;
    if (joined) {
      tokens.push({ lower: joined, caps: false });
      i++;
      continue;
    }
    tokens.push({ lower, caps: word.length > 1 && word === word.toUpperCase() });
  }
  return tokens;
}

function matchPhrase(tokens: Token[], at: number): { tokens: string[]; score: number } | undefined {
  for (const phrase of PHRASE_VALENCE) {
    if (at + phrase.tokens.length > tokens.length) continue;
    if (phrase.tokens.every((word, k) => tokens[at + k]!.lower === word)) return phrase;
  }
  return undefined;
}

/** Product of the degree words in the two tokens before `at`. */
function degreeBefore(tokens: Token[], at: number): number {
  let factor = 1;
  for (let k = Math.max(0, at - 2); k < at; k++) factor *= INTENSIFIERS.get(tokens[k]!.lower) ?? 1;
  return factor;
}

/** True when an odd number of negators sits within the window before `at` (same clause). */
function negatedBefore(tokens: Token[], at: number): boolean {
  let negations = 0;
  for (let k = at - 1; k >= Math.max(0, at - NEGATION_WINDOW); k--) {
    const word = tokens[k]!.lower;
    if (CONTRASTS.has(word)) break;
    if (NEGATORS.has(word) || word.endsWith("n't")) negations++;
  }
  return negations % 2 === 1;
}

/** Scales scores around the last contrast word: the clause after it carries the speaker's point. */
function weightContrast(tokens: Token[], scores: number[]): number[] {
  let last = -1;
  tokens.forEach((t, i) => {
    if (CONTRASTS.has(t.lower)) last = i;
  });
  if (last < 0) return scores;
  return scores.map((s, i) => (i < last ? s * BEFORE_CONTRAST : i > last ? s * AFTER_CONTRAST : s));
}

function clamp(v: number): number {
  return Math.max(-1, Math.min(1, v));
}
