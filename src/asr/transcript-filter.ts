/**
 * Decides whether a decode is text or one of Whisper's well-known failures: words invented from
 * silence or noise, loops of one phrase, punctuation only. Pure functions; the thresholds follow
 * OpenAI's `transcribe()` (compression ratio 2.4, no-speech 0.6 with avg logprob -1).
 */
import { gzipSync } from 'node:zlib';
import type { AsrResult } from './types.js';

/** Thresholds of `judgeTranscript`; defaults in `DEFAULT_FILTER_OPTIONS`. */
export interface TranscriptFilterOptions {
  /** gzip ratio of the text above which it counts as a loop. */
  maxCompressionRatio: number;
  /** No-speech probability above which a decode is dropped (when avg logprob is low or unknown). */
  noSpeechThreshold: number;
  /** Avg logprob below which a high no-speech probability wins. */
  logprobThreshold: number;
  /** RMS in dBFS under which audio counts as low-energy for the hallucination list. */
  lowEnergyDb: number;
}

export const DEFAULT_FILTER_OPTIONS: Readonly<TranscriptFilterOptions> = Object.freeze({
  maxCompressionRatio: 2.4,
  noSpeechThreshold: 0.6,
  logprobThreshold: -1,
  lowEnergyDb: -35,
});

/**
 * Phrases Whisper is known to produce on silence, music and noise (subtitle credits of its
 * training data). Matched after normalisation, only when the audio is low-energy.
 */
const KNOWN_HALLUCINATIONS = new Set(
  [
    'thank you',
    'thank you very much',
    'thanks for watching',
    'thank you for watching',
    'thanks for watching and see you next time',
    'please subscribe',
    'subscribe to my channel',
    'like and subscribe',
    'see you next time',
    'bye',
    'you',
    'okay',
    'so',
    'the end',
    'subtitles by the amaraorg community',
    'transcription by castingwords',
    'music',
    'applause',
    'silence',
  ].map((s) => normalizeForMatch(s)),
);

export type RejectReason =
  | 'empty'
  | 'no-speech'
  | 'compression-ratio'
  | 'repetition'
  | 'hallucination';

/** Lower-cases, drops punctuation and collapses spaces: the form words are compared in. */
export function normalizeForMatch(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s']/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** gzip compression ratio of the UTF-8 text, as Whisper computes it (bytes / gzipped bytes). */
export function compressionRatio(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return 0;
  return bytes.length / gzipSync(bytes).length;
}

/** True when the text has no letter or digit. */
export function isPunctuationOnly(text: string): boolean {
  return !/[\p{L}\p{N}]/u.test(text);
}

/**
 * True when one n-gram (1 to 4 words) repeats back to back at least `minRepeats` times, or when
 * one word makes up most of a longer text: the loops a stuck decoder writes.
 */
export function hasRepetition(text: string, minRepeats = 4): boolean {
  const words = normalizeForMatch(text).split(' ').filter(Boolean);
  if (words.length >= 8) {
    const counts = new Map<string, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    if (Math.max(...counts.values()) / words.length > 0.5) return true;
  }
  for (let n = 1; n <= 4; n++) {
    for (let start = 0; start + n * minRepeats <= words.length; start++) {
      let repeats = 1;
      for (let at = start + n; at + n <= words.length; at += n) {
        if (!sameRun(words, start, at, n)) break;
        repeats++;
      }
      if (repeats >= minRepeats) return true;
    }
  }
  return false;
}

function sameRun(words: string[], a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (words[a + i] !== words[b + i]) return false;
  return true;
}

/** RMS level of samples in dBFS (-Infinity for digital silence). */
export function rmsDb(samples: Float32Array): number {
  if (samples.length === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (Number.isFinite(s)) sum += s * s;
  }
  return 10 * Math.log10(sum / samples.length);
}

/**
 * Judges one decode of `audio`. Returns the reason to drop it, or null when it is kept.
 * The compression ratio is computed here when the engine did not report one.
 */
export function judgeTranscript(
  result: Pick<AsrResult, 'text' | 'noSpeechProb' | 'avgLogprob' | 'compressionRatio'>,
  audio: Float32Array,
  options: TranscriptFilterOptions = DEFAULT_FILTER_OPTIONS,
): RejectReason | null {
  const text = result.text.trim();
  if (text.length === 0 || isPunctuationOnly(text)) return 'empty';

  if (result.noSpeechProb !== undefined && result.noSpeechProb > options.noSpeechThreshold) {
    const lowConfidence =
      result.avgLogprob === undefined || result.avgLogprob < options.logprobThreshold;
    if (lowConfidence) return 'no-speech';
  }
  const ratio = result.compressionRatio ?? compressionRatio(text);
  if (ratio > options.maxCompressionRatio) return 'compression-ratio';
  if (hasRepetition(text)) return 'repetition';
  if (rmsDb(audio) < options.lowEnergyDb && KNOWN_HALLUCINATIONS.has(normalizeForMatch(text))) {
    return 'hallucination';
  }
  return null;
}
