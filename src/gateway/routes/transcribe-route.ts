/**
 * `POST /v1/transcribe`: a whole recording in, its transcript out. WAV and Ogg Opus are
 * recognised by their bytes; headerless audio needs its format in the query
 * (`?codec=pcm16&sampleRateHz=16000&channels=1`) or the content type (`audio/L16;rate=16000`).
 * Audio goes to 16 kHz mono, is cut into speech segments by the VAD when one is given (else into
 * pieces of at most 30 s at pauses), and each segment is decoded through the shared scheduler.
 *
 * `handleTranscribeRequest` is pure (bytes in, status and JSON body out); `transcribeHttpHandler`
 * adapts it to a Node request/response pair.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AsrScheduler } from '../../asr/asr-scheduler.js';
import { decodeLong } from '../../asr/long-audio.js';
import { voicedMs } from '../../asr/speech-audio.js';
import type { AsrWord } from '../../asr/types.js';
import { StereoDownmixer } from '../../audio/channel-mix.js';
import { decodeAudioBytes, type RawAudioFormat } from '../../audio/read-audio-file.js';
import { resample } from '../../audio/resampler.js';
import { isUndertoneError } from '../../errors/undertone-error.js';
import { silentLogger } from '../../log/logger.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import type { VadEngine } from '../../vad/types.js';

export interface TranscribeRouteDeps {
  scheduler: AsrScheduler;
  /** Splits the audio into speech segments; without it, pieces of up to 30 s cut at pauses. */
  vad?: VadEngine;
  /** Language when the query names none (`?language=de`); default the engine's. */
  language?: string;
  /** Longest recording accepted, in seconds (default 3600). */
  maxDurationS?: number;
  log?: Logger;
}

export interface TranscribeResponseBody {
  text: string;
  language: string;
  durationMs: number;
  segments: { startMs: number; endMs: number; text: string }[];
}

export interface TranscribeRouteResult {
  status: number;
  body: TranscribeResponseBody | { error: { code: string; message: string } };
}

const RATE_HZ = 16_000;
const RAW_CODECS = ['pcm16', 'f32', 'mulaw', 'alaw'] as const;

const fail = (status: number, code: string, message: string): TranscribeRouteResult => ({
  status,
  body: { error: { code, message } },
});

/** Handles one request body. Never throws: failures come back as coded JSON errors. */
export async function handleTranscribeRequest(
  body: Uint8Array,
  contentType: string | undefined,
  query: URLSearchParams,
  deps: TranscribeRouteDeps,
): Promise<TranscribeRouteResult> {
  const log = (deps.log ?? silentLogger).child({ route: 'transcribe' });
  if (body.byteLength === 0) return fail(400, ERROR_CODES.badAudioFormat, 'empty request body');

  const raw = rawFormat(contentType, query);
  if (typeof raw === 'string') return fail(400, ERROR_CODES.badAudioFormat, raw);

  let mono: Float32Array;
  try {
    const decoded = decodeAudioBytes(body, { raw, opusRateHz: RATE_HZ });
    const channels = decoded.channels;
    if (channels.length === 0 || channels[0]!.length === 0)
      return fail(400, ERROR_CODES.badAudioFormat, 'no audio samples');
    mono =
      channels.length === 1
        ? channels[0]!
        : new StereoDownmixer().downmix(interleave(channels[0]!, channels[1]!));
    mono = resample(mono, decoded.sampleRateHz, RATE_HZ);
  } catch (err) {
    if (isUndertoneError(err)) return fail(400, err.code, err.message);
    return fail(400, ERROR_CODES.badAudioFormat, 'unreadable audio');
  }

  const durationMs = Math.round(mono.length / 16);
  if (durationMs > (deps.maxDurationS ?? 3600) * 1000) {
    return fail(
      413,
      ERROR_CODES.durationLimit,
      `recording longer than ${deps.maxDurationS ?? 3600} s`,
    );
  }
  const language = query.get('language') ?? deps.language;

  try {
    const spans = deps.vad
      ? await speechSpans(deps.vad, mono)
      : [{ startMs: 0, endMs: durationMs }];
    const texts: string[] = [];
    const segments: AsrWord[] = [];
    let detected = language && language !== 'auto' ? language : 'en';
    for (const span of spans) {
      const audio = mono.subarray(span.startMs * 16, span.endMs * 16);
      if (voicedMs(audio) < 80) continue;
      const stitched = await decodeLong(deps.scheduler, audio, {
        language: language === 'auto' ? undefined : language,
      });
      if (!stitched) continue;
      detected = stitched.language;
      texts.push(stitched.text);
      for (const s of stitched.segments)
        segments.push({
          text: s.text,
          startMs: s.startMs + span.startMs,
          endMs: s.endMs + span.startMs,
        });
    }
    log.debug(
      { durationMs, spans: spans.length, segments: segments.length },
      'transcribe request done',
    );
    return {
      status: 200,
      body: {
        text: texts.join(' '),
        language: detected,
        durationMs,
        segments: segments.map(({ startMs, endMs, text }) => ({ startMs, endMs, text })),
      },
    };
  } catch (err) {
    log.warn({ err }, 'transcribe request failed');
    if (isUndertoneError(err))
      return fail(err.category === 'bad-input' ? 400 : 502, err.code, err.message);
    return fail(500, ERROR_CODES.internal, 'transcription failed');
  }
}

/** The raw format from the query or content type; a string is the reason it is invalid. */
function rawFormat(
  contentType: string | undefined,
  query: URLSearchParams,
): RawAudioFormat | undefined | string {
  const type = (contentType ?? '').toLowerCase();
  const params = new Map(
    type
      .split(';')
      .slice(1)
      .map((p) => p.trim().split('=') as [string, string]),
  );
  let codec = query.get('codec') ?? undefined;
  if (!codec && type.startsWith('audio/l16')) codec = 'pcm16';
  if (!codec && (type.startsWith('audio/pcmu') || type.startsWith('audio/basic'))) codec = 'mulaw';
  if (!codec && type.startsWith('audio/pcma')) codec = 'alaw';
  if (!codec) return undefined;
  if (!(RAW_CODECS as readonly string[]).includes(codec))
    return `unknown codec "${codec}" (one of ${RAW_CODECS.join(', ')})`;

  const rate = Number(
    query.get('sampleRateHz') ??
      params.get('rate') ??
      (codec === 'mulaw' || codec === 'alaw' ? 8000 : NaN),
  );
  const channels = Number(query.get('channels') ?? params.get('channels') ?? 1);
  if (!Number.isInteger(rate) || rate < 8000 || rate > 192_000)
    return 'sampleRateHz must be an integer from 8000 to 192000';
  if (channels !== 1 && channels !== 2) return 'channels must be 1 or 2';
  return { codec: codec as RawAudioFormat['codec'], sampleRateHz: rate, channels };
}

function interleave(left: Float32Array, right: Float32Array): Float32Array {
  const out = new Float32Array(left.length * 2);
  for (let i = 0; i < left.length; i++) {
    out[2 * i] = left[i]!;
    out[2 * i + 1] = right[i] ?? 0;
  }
  return out;
}

/** Runs the whole recording through a VAD stream and returns its speech segments. */
async function speechSpans(
  vad: VadEngine,
  mono: Float32Array,
): Promise<{ startMs: number; endMs: number }[]> {
  const stream = vad.createStream();
  const spans: { startMs: number; endMs: number }[] = [];
  const sub = stream.events.subscribe((event) => {
    if (event.type === 'speech-end') spans.push({ startMs: event.startMs, endMs: event.endMs });
  });
  try {
    for (let at = 0; at < mono.length; at += RATE_HZ) stream.push(mono.subarray(at, at + RATE_HZ));
    await stream.flush();
  } finally {
    sub.unsubscribe();
    stream.close();
  }
  return spans;
}

/** Deps of the Node adapter: the route's, plus how to find the scheduler once engines load. */
export interface TranscribeHttpDeps extends Omit<TranscribeRouteDeps, 'scheduler'> {
  scheduler: AsrScheduler | (() => AsrScheduler | undefined);
}

/** Adapts `handleTranscribeRequest` to Node's `(req, res, body)`. */
export async function transcribeHttpHandler(
  req: IncomingMessage,
  res: ServerResponse,
  body: Uint8Array,
  deps: TranscribeHttpDeps,
): Promise<void> {
  const scheduler = typeof deps.scheduler === 'function' ? deps.scheduler() : deps.scheduler;
  const result = scheduler
    ? await handleTranscribeRequest(
        body,
        req.headers['content-type'],
        new URL(req.url ?? '/', 'http://localhost').searchParams,
        {
          ...deps,
          scheduler,
        },
      )
    : fail(503, ERROR_CODES.overloaded, 'engines are still loading');
  const text = JSON.stringify(result.body);
  res.writeHead(result.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
