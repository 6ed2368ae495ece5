/**
 * Incremental text chunker between LLM tokens and TTS. Text arrives in small deltas; chunks leave
 * as soon as a boundary is certain: the first speakable clause early (a comma after a few words, or
 * the first sentence end), then whole sentences.
 *
 * A boundary is only released once the text after it proves it: `3.` waits for the next delta
 * (`3.14`), `Dr. ` never splits, `etc. ` splits only before a capital. Dots inside a word (URLs,
 * e-mails, decimals, `e.g.,`) are never boundaries because a boundary needs a space after it.
 *
 * @example
 * const chunker = new SentenceChunker();
 * for await (const token of llm.generate(messages)) for (const c of chunker.push(token)) speak(c);
 * for (const c of chunker.flush()) speak(c);
 */

export interface SentenceChunkerOptions {
  /**
   * Words before a clause mark (comma, semicolon, colon, dash) that release the first chunk.
   * Default 4.
   */
  firstClauseMinWords?: number;
  /** A chunk longer than this is cut at a clause mark or a space, in characters. Default 250. */
  maxChunkChars?: number;
}

/** Sentence ends that need a following space (Latin, Arabic, Devanagari, Urdu, Ethiopic). */
const TERMINATORS = new Set(['.', '!', '?', '…', '‽', '؟', '।', '॥', '۔', '።', '፧']);
/** Sentence ends of scripts written without spaces: a boundary right after them. */
const CJK_TERMINATORS = new Set(['。', '！', '？', '｡', '．']);
/** Marks that may follow a sentence end and belong to it. */
const CLOSERS = new Set([
  '"',
  "'",
  '”',
  '’',
  ')',
  ']',
  '}',
  '»',
  '›',
  '」',
  '』',
  '）',
  '】',
  '〉',
  '》',
  '〕',
]);
const OPENERS = /^["'“‘(\[{«‹「『（【〈《〔]+/;
/** Clause marks that need a following space. */
const CLAUSE_MARKS = new Set([',', ';', ':', '،', '؛']);
/** Clause marks that need no space (CJK) or carry their own (dashes). */
const CLAUSE_MARKS_NO_SPACE = new Set(['，', '、', '；', '：', '—', '–']);

/** Abbreviations that never end a sentence (compared lowercased, without the final dot). */
const NEVER_FINAL = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'mt',
  'gen',
  'col',
  'lt',
  'sgt',
  'capt',
  'rev',
  'hon',
  'gov',
  'sen',
  'rep',
  'vs',
  'e.g',
  'i.e',
  'cf',
  'approx',
  'fig',
  'no',
  'vol',
  'ch',
  'ed',
]);
/** Abbreviations that end a sentence only when a capitalised word follows. */
const MAYBE_FINAL = new Set([
  'etc',
  'inc',
  'ltd',
  'co',
  'corp',
  'bros',
  'al',
  'jan',
  'feb',
  'mar',
  'apr',
  'jun',
  'jul',
  'aug',
  'sep',
  'sept',
  'oct',
  'nov',
  'dec',
  'mon',
  'tue',
  'wed',
  'thu',
  'fri',
  'sat',
  'sun',
]);
/** `U.S`, `a.m`, `Ph.D`: letters joined by dots. */
const INITIALISM = /^(?:\p{L}{1,2}\.)+\p{L}{1,2}$/u;
/** Characters of scripts written without spaces; each counts as a word. */
const UNSPACED_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/gu;

const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/u.test(ch);
/** True for a letter that starts a sentence: capitals and letters of caseless scripts. */
const startsSentence = (ch: string): boolean => /[\p{Lu}\p{Lt}\p{Lo}"“‘«(\[]/u.test(ch);

/** Words in a text; each CJK/Thai character counts as one. */
export function countWords(text: string): number {
  const unspaced = text.match(UNSPACED_CHAR)?.length ?? 0;
  const spaced = text
    .replace(UNSPACED_CHAR, ' ')
    .split(/\s+/u)
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  return spaced.length + unspaced;
}

/** Result of looking for a boundary: where the chunk ends, or that more text is needed. */
type Scan = { cut: number } | { cut: -1 };

export class SentenceChunker {
  private buffer = '';
  private emittedFirst = false;
  private readonly firstClauseMinWords: number;
  private readonly maxChunkChars: number;

  constructor(options: SentenceChunkerOptions = {}) {
    this.firstClauseMinWords = options.firstClauseMinWords ?? 4;
    this.maxChunkChars = options.maxChunkChars ?? 250;
  }

  /** Adds generated text; returns the chunks that became ready (trimmed, never empty). */
  push(textDelta: string): string[] {
    this.buffer += textDelta;
    return this.drain(false);
  }

  /** Ends the text: returns every remaining chunk, the unfinished tail included. */
  flush(): string[] {
    const chunks = this.drain(true);
    const rest = this.buffer.trim();
    this.buffer = '';
    if (rest) chunks.push(rest);
    this.emittedFirst = false;
    return chunks;
  }

  /** Drops pending text (after a barge-in) and starts over as for a new reply. */
  reset(): void {
    this.buffer = '';
    this.emittedFirst = false;
  }

  /** Text received but not yet released. */
  get pending(): string {
    return this.buffer;
  }

  private drain(final: boolean): string[] {
    const chunks: string[] = [];
    for (;;) {
      const { cut } = this.findBoundary(this.buffer, final);
      if (cut < 0) break;

      const chunk = this.buffer.slice(0, cut).trim();
      this.buffer = this.buffer.slice(cut).replace(/^\s+/u, '');
      if (chunk) {
        chunks.push(chunk);
        this.emittedFirst = true;
      }
    }
    return chunks;
  }

  private findBoundary(text: string, final: boolean): Scan {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '\n') {
        if (text.slice(0, i).trim()) return { cut: i + 1 };
        continue;
      }

      if (CJK_TERMINATORS.has(ch)) {
        const end = skipWhile(text, i + 1, (c) => CJK_TERMINATORS.has(c) || CLOSERS.has(c));
        if (end === text.length && !final) return { cut: -1 };
        return { cut: end };
      }

      if (TERMINATORS.has(ch)) {
        const scan = this.sentenceEnd(text, i, final);
        if (scan === 'wait') return { cut: -1 };
        if (scan !== 'no') return { cut: scan };
        // Skip the rest of the run: the last dot of `...` is not a sentence end of its own.
        i = skipWhile(text, i, (c) => TERMINATORS.has(c)) - 1;
        continue;
      }

      if (!this.emittedFirst) {
        const scan = this.clauseEnd(text, i);
        if (scan === 'wait') break;
        if (scan !== 'no') return { cut: scan };
      }
    }
    return this.forcedCut(text);
  }

  /** Decides whether the terminator at `at` ends a sentence; returns the cut, 'no' or 'wait'. */
  private sentenceEnd(text: string, at: number, final: boolean): number | 'no' | 'wait' {
    const runEnd = skipWhile(text, at, (c) => TERMINATORS.has(c));
    const end = skipWhile(text, runEnd, (c) => CLOSERS.has(c));
    if (end === text.length) return 'wait';
    if (!isSpace(text[end])) return 'no';

    const next = text.slice(end).trimStart()[0];
    const run = text.slice(at, runEnd);
    const needsNext = (): 'wait' | boolean =>
      next === undefined ? (final ? true : 'wait') : startsSentence(next);

    if (/[!?‽؟।॥۔።፧]/u.test(run)) return end;
    if (run.length > 1 || run.includes('…')) {
      const ok = needsNext();
      return ok === 'wait' ? 'wait' : ok ? end : 'no';
    }

    const word = wordBefore(text, at);
    const lower = word.toLowerCase();
    if (word === '') return end;
    if (NEVER_FINAL.has(lower) && !(lower === 'no' && next !== undefined && !/\d/u.test(next))) {
      return 'no';
    }
    if (/^\p{Lu}$/u.test(word)) return 'no';
    if (/^\d+$/u.test(word) && atLineStart(text, at - word.length)) return 'no';
    if (MAYBE_FINAL.has(lower) || INITIALISM.test(word)) {
      const ok = needsNext();
      return ok === 'wait' ? 'wait' : ok ? end : 'no';
    }
    return end;
  }

  /** Before the first chunk: a clause mark after enough words releases the clause. */
  private clauseEnd(text: string, at: number): number | 'no' | 'wait' {
    const ch = text[at]!;
    let end: number;
    if (CLAUSE_MARKS.has(ch)) {
      if (at + 1 === text.length) return 'wait';
      if (!isSpace(text[at + 1])) return 'no';
      end = at + 1;
    } else if (CLAUSE_MARKS_NO_SPACE.has(ch)) {
      end = at + 1;
    } else {
      return 'no';
    }
    return countWords(text.slice(0, at)) >= this.firstClauseMinWords ? end : 'no';
  }

  /** A run-on text with no boundary is cut at its last clause mark or space before the limit. */
  private forcedCut(text: string): Scan {
    if (text.trim().length <= this.maxChunkChars) return { cut: -1 };

    const head = text.slice(0, this.maxChunkChars);
    const clause = Math.max(...[', ', '; ', ': ', '，', '、'].map((m) => head.lastIndexOf(m)));
    if (clause > this.maxChunkChars / 2) return { cut: clause + 1 };
    const space = head.search(/\s\S*$/u);
    return { cut: space > 0 ? space : this.maxChunkChars };
  }
}

function skipWhile(text: string, from: number, test: (ch: string) => boolean): number {
  let i = from;
  while (i < text.length && test(text[i]!)) i++;
  return i;
}

/** The token right before `at`, without leading quotes or brackets. */
function wordBefore(text: string, at: number): string {
  let start = at;
  while (start > 0 && !isSpace(text[start - 1])) start--;
  return text.slice(start, at).replace(OPENERS, '');
}

/** True when only spaces lie between `at` and the start of its line (or of the text). */
function atLineStart(text: string, at: number): boolean {
  for (let i = at - 1; i >= 0; i--) {
    if (text[i] === '\n') return true;
    if (!isSpace(text[i])) return false;
  }
  return true;
}
