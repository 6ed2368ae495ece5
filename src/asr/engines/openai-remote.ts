/**
 * ASR through an OpenAI-compatible server: `POST {url}/audio/transcriptions` with the audio as a
 * 16-bit WAV in a multipart form. Asks for `verbose_json` (segments, words, no-speech and logprob
 * signs) and falls back to plain `json` when the server rejects that format.
 */
import { encodeWav } from '../../audio/wav.js';
import { UndertoneError } from '../../errors/undertone-error.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import type { AsrEngine, AsrOptions, AsrResult, AsrWord } from '../types.js';

export interface OpenAiRemoteAsrOptions {
  /** Base URL, e.g. `http://127.0.0.1:8000/v1`. */
  url: string;
  apiKey?: string;
  /** Model name sent in each request (default `whisper-1`). */
  model?: string;
  /** A request fails with `UT_ERR_ASR_FAILED` after this long, in ms (default 30 000). */
  timeoutMs?: number;
  /** Ask for word times as well as segment times (default true). */
  wordTimestamps?: boolean;
  /** Language when a request names none (undefined lets the server detect it). */
  language?: string;
}

interface VerboseSegment {
  start?: number;
  end?: number;
  text?: string;
  avg_logprob?: number;
  compression_ratio?: number;
  no_speech_prob?: number;
}

interface TranscriptionBody {
  text?: unknown;
  language?: unknown;
  duration?: unknown;
  segments?: VerboseSegment[];
  words?: { word?: string; start?: number; end?: number }[];
}

const asrError = (
  message: string,
  cause?: unknown,
  category: 'upstream' | 'network' = 'upstream',
) => new UndertoneError(ERROR_CODES.asrFailed, message, { category, cause });

/** Creates the remote engine. Nothing is sent until the first `transcribe`. */
export function createOpenAiRemoteAsr(options: OpenAiRemoteAsrOptions): AsrEngine {
  const base = options.url.replace(/\/+$/, '');
  const endpoint = `${base}/audio/transcriptions`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  let verbose = true;

  const post = async (audio: Float32Array, asr: AsrOptions, format: 'verbose_json' | 'json') => {
    const form = new FormData();
    const wav = encodeWav([audio], 16_000);
    form.append(
      'file',
      new Blob([wav as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }),
      'audio.wav',
    );
    form.append('model', options.model ?? 'whisper-1');
    form.append('response_format', format);
    const language = asr.language ?? options.language;
    if (language && language !== 'auto') form.append('language', language);
    if (asr.prompt) form.append('prompt', asr.prompt);
    if (format === 'verbose_json') {
      form.append('timestamp_granularities[]', 'segment');
      if (options.wordTimestamps !== false) form.append('timestamp_granularities[]', 'word');
    }

    const signals = [AbortSignal.timeout(timeoutMs)];
    if (asr.signal) signals.push(asr.signal);
    const headers: Record<string, string> = {};
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    return fetch(endpoint, {
      method: 'POST',
      body: form,
      headers,
      signal: AbortSignal.any(signals),
    });
  };

  return {
    name: 'openai-remote',

    async transcribe(audio, asr = {}) {
      let response: Response;
      try {
        response = await post(audio, asr, verbose ? 'verbose_json' : 'json');
        if (verbose && (response.status === 400 || response.status === 422)) {
          // Servers without verbose_json (some local ones) refuse the format: ask for plain json.
          await response.body?.cancel();
          verbose = false;
          response = await post(audio, asr, 'json');
        }
      } catch (err) {
        if (asr.signal?.aborted) throw asr.signal.reason;
        const timedOut = err instanceof Error && err.name === 'TimeoutError';
        throw asrError(
          timedOut ? `asr server gave no answer in ${timeoutMs} ms` : 'asr server unreachable',
          err,
          'network',
        );
      }
      if (!response.ok) {
        const detail = (await response.text().catch(() => '')).slice(0, 300);
        throw asrError(`asr server answered ${response.status}: ${detail}`);
      }

      let body: TranscriptionBody;
      try {
        body = (await response.json()) as TranscriptionBody;
      } catch (err) {
        if (asr.signal?.aborted) throw asr.signal.reason;
        throw asrError('asr server sent invalid JSON', err);
      }
      if (typeof body.text !== 'string') throw asrError('asr server reply has no text');
      return toResult(body, audio.length / 16, asr.language ?? options.language);
    },

    async close() {},
  };
}

function toResult(body: TranscriptionBody, durationMs: number, requested?: string): AsrResult {
  const text = (body.text as string).trim();
  const segments: AsrWord[] = (body.segments ?? [])
    .filter((s) => typeof s.text === 'string')
    .map((s) => ({
      text: (s.text ?? '').trim(),
      startMs: clampMs((s.start ?? 0) * 1000, durationMs),
      endMs: clampMs((s.end ?? 0) * 1000, durationMs),
    }));
  const words: AsrWord[] | undefined = body.words?.map((w) => ({
    text: (w.word ?? '').trim(),
    startMs: clampMs((w.start ?? 0) * 1000, durationMs),
    endMs: clampMs((w.end ?? 0) * 1000, durationMs),
  }));

  const signs = body.segments ?? [];
  const worst = (key: 'no_speech_prob' | 'compression_ratio') =>
    signs.some((s) => typeof s[key] === 'number')
      ? Math.max(...signs.map((s) => s[key] ?? 0))
      : undefined;
  const logprobs = signs
    .map((s) => s.avg_logprob)
    .filter((v): v is number => typeof v === 'number');

  return {
    text,
    language: typeof body.language === 'string' ? toCode(body.language) : (requested ?? 'en'),
    segments:
      segments.length > 0 ? segments : text ? [{ text, startMs: 0, endMs: durationMs }] : [],
    words: words && words.length > 0 ? words : undefined,
    noSpeechProb: worst('no_speech_prob'),
    compressionRatio: worst('compression_ratio'),
    avgLogprob:
      logprobs.length > 0 ? logprobs.reduce((a, b) => a + b, 0) / logprobs.length : undefined,
  };
}

const clampMs = (ms: number, durationMs: number) =>
  Math.max(0, Math.min(durationMs, Math.round(ms)));

/** OpenAI's verbose_json names the language in English ("english"); we use ISO codes. */
const LANGUAGE_NAMES: Record<string, string> = {
  english: 'en',
  german: 'de',
  french: 'fr',
  spanish: 'es',
  italian: 'it',
  portuguese: 'pt',
  dutch: 'nl',
  russian: 'ru',
  chinese: 'zh',
  japanese: 'ja',
  korean: 'ko',
  arabic: 'ar',
  hindi: 'hi',
  polish: 'pl',
  turkish: 'tr',
  swedish: 'sv',
  ukrainian: 'uk',
};

function toCode(language: string): string {
  const lower = language.toLowerCase();
  return LANGUAGE_NAMES[lower] ?? lower;
}
