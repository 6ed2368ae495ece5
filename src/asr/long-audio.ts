/**
 * Decoding speech of any length with a 30 s model: cut at pauses, decode the pieces in order
 * (each prompted with the text before it), and stitch texts and times back together. Pieces are
 * disjoint and cut where it is quietest, so no word is decoded twice or lost at a seam.
 */
import type { AsrScheduler } from './asr-scheduler.js';
import {
  judgeTranscript,
  type RejectReason,
  type TranscriptFilterOptions,
  DEFAULT_FILTER_OPTIONS,
} from './transcript-filter.js';
import { splitAtPauses } from './speech-audio.js';
import type { AsrResult, AsrWord } from './types.js';

/** Text and times of a whole stretch of audio, times relative to its first sample. */
export interface StitchedTranscript {
  text: string;
  language: string;
  segments: AsrWord[];
  words?: AsrWord[];
  /** Piece boundaries used, in ms. */
  piecesMs: number[];
  /** Why pieces were dropped, one entry per dropped piece. */
  rejected: RejectReason[];
}

export interface DecodeLongOptions {
  language?: string;
  priority?: 'partial' | 'final';
  streamKey?: string;
  signal?: AbortSignal;
  filter?: TranscriptFilterOptions;
  /** Longest piece, in samples (default 29.9 s). */
  maxPieceSamples?: number;
}

/** Keeps at most this much of the text before a piece as its prompt, in characters. */
const PROMPT_CHARS = 600;

/**
 * Decodes `audio` (16 kHz mono, any length) through the scheduler. Returns null when every
 * piece was rejected as non-speech, or when a partial piece was shed.
 */
export async function decodeLong(
  scheduler: AsrScheduler,
  audio: Float32Array,
  options: DecodeLongOptions = {},
): Promise<StitchedTranscript | null> {
  const bounds = splitAtPauses(audio, options.maxPieceSamples);
  const texts: string[] = [];
  const segments: AsrWord[] = [];
  const words: AsrWord[] = [];
  const rejected: RejectReason[] = [];
  let language = options.language ?? 'en';

  for (let p = 0; p + 1 < bounds.length; p++) {
    const piece = audio.subarray(bounds[p]!, bounds[p + 1]!);
    const prompt = texts.join(' ').slice(-PROMPT_CHARS);
    const result = await scheduler.transcribe(piece, {
      language: options.language,
      prompt: prompt || undefined,
      priority: options.priority ?? 'final',
      streamKey: options.streamKey,
      signal: options.signal,
    });
    if (!result) return null;
    const reason = judgeTranscript(result, piece, options.filter ?? DEFAULT_FILTER_OPTIONS);
    if (reason) {
      rejected.push(reason);
      continue;
    }
    language = result.language;
    texts.push(result.text.trim());
    const offsetMs = bounds[p]! / 16;
    const endMs = bounds[p + 1]! / 16;
    appendTimed(segments, pieceSegments(result, piece.length / 16), offsetMs, endMs);
    if (result.words) appendTimed(words, result.words, offsetMs, endMs);
  }

  if (texts.length === 0) return null;
  return {
    text: texts.join(' '),
    language,
    segments,
    words: words.length > 0 ? words : undefined,
    piecesMs: bounds.map((b) => b / 16),
    rejected,
  };
}

function pieceSegments(result: AsrResult, durationMs: number): AsrWord[] {
  return result.segments.length > 0
    ? result.segments
    : [{ text: result.text.trim(), startMs: 0, endMs: durationMs }];
}

/**
 * Appends times shifted by `offsetMs`, clamped into `[offsetMs, endMs]` and made monotonic:
 * no item starts before the previous one ends. Models do emit times out of order.
 */
export function appendTimed(
  into: AsrWord[],
  items: AsrWord[],
  offsetMs: number,
  endMs: number,
): void {
  for (const item of items) {
    const floor = Math.max(offsetMs, into.at(-1)?.endMs ?? 0);
    const startMs = Math.min(endMs, Math.max(floor, item.startMs + offsetMs));
    const stopMs = Math.min(endMs, Math.max(startMs, item.endMs + offsetMs));
    into.push({ text: item.text, startMs, endMs: stopMs });
  }
}
