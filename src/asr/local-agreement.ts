/**
 * LocalAgreement-2 (Machacek et al., "Turning Whisper into Real-Time Transcription System",
 * 2023): a word becomes committed once two consecutive hypotheses of the growing audio agree on
 * it and on every word before it. Committed text only grows; what follows it is tentative.
 */
import { normalizeForMatch } from './transcript-filter.js';

/** State of one segment's partial transcript. */
export interface AgreementState {
  /** Committed words, as first written; never shrinks or changes. */
  committed: string;
  /** Words of the latest hypothesis after the committed ones. */
  tentative: string;
  /** How many words `committed` holds. */
  committedWords: number;
}

/** Splits text into words, keeping each word's own punctuation. */
export function splitWords(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}

const same = (a: string, b: string): boolean => normalizeForMatch(a) === normalizeForMatch(b);

/**
 * Tracks agreement across hypotheses of one piece of growing audio. Feed each new hypothesis in
 * decode order; hypotheses cover the audio from the same start point.
 */
export class LocalAgreement {
  private committed: string[] = [];
  private previous: string[] | undefined;
  /** Committed words that came from outside agreement (a frozen earlier piece). */
  private base: string[] = [];

  /** The current state. */
  get state(): AgreementState {
    const all = [...this.base, ...this.committed];
    return {
      committed: all.join(' '),
      tentative: this.tentativeWords.join(' '),
      committedWords: all.length,
    };
  }

  private tentativeWords: string[] = [];

  /**
   * Adds one hypothesis of the whole current piece. Returns true when the committed text grew.
   * Words of the hypothesis at committed positions are skipped even where they differ: once
   * shown as committed, text is never taken back.
   */
  update(hypothesis: string): boolean {
    const words = splitWords(hypothesis);
    const fresh = words.slice(this.committed.length);
    let grew = false;
    if (this.previous) {
      const before = this.previous.slice(this.committed.length);
      let agreed = 0;
      while (
        agreed < fresh.length &&
        agreed < before.length &&
        same(fresh[agreed]!, before[agreed]!)
      ) {
        agreed++;
      }
      if (agreed > 0) {
        this.committed.push(...fresh.slice(0, agreed));
        grew = true;
      }
      this.tentativeWords = fresh.slice(agreed);
    } else {
      this.tentativeWords = fresh;
    }
    this.previous = words;
    return grew;
  }

  /**
   * Ends the current piece with its definitive text (a decode of exactly that audio): its words
   * beyond those already committed are committed too, and agreement restarts for the next piece.
   */
  freezePiece(pieceText: string): void {
    const words = splitWords(pieceText);
    const extra = words.slice(this.committed.length);
    this.base.push(...this.committed, ...extra);
    this.committed = [];
    this.previous = undefined;
    this.tentativeWords = [];
  }

  /** Text committed in earlier, frozen pieces: the prompt for decoding the current one. */
  get frozenText(): string {
    return this.base.join(' ');
  }
}
