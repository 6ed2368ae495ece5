/**
 * Streaming transcription of one session track. The pipeline feeds it the VAD's segment events;
 * while speech goes on it re-decodes the growing segment every `partialIntervalMs` of audio and
 * publishes partials (committed prefix by LocalAgreement-2, tentative tail); at speech end it
 * decodes the whole segment once more and returns the final.
 *
 * Guarantees:
 * - the final of a segment up to 30 s is the plain decode of exactly its audio (no prompt), so it
 *   equals what the transformers.js pipeline returns for that audio;
 * - committed text only grows within a segment, and a partial is published only when it differs
 *   from the last one: a CPU that falls behind skips partials, it never repeats one;
 * - audio with too little voicing is never decoded, and decodes that look like Whisper's failure
 *   modes are dropped (see `transcript-filter.ts`): silence and noise give no text;
 * - each segment starts clean: a silent turn after a spoken one returns null, never old text.
 */
import { Subject, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import { silentLogger } from '../log/logger.js';
import { metrics } from '../metrics/metrics.js';
import type { AsrScheduler } from './asr-scheduler.js';
import { LocalAgreement } from './local-agreement.js';
import { decodeLong } from './long-audio.js';
import { quietestPoint, VoicingMeter, voicedMs } from './speech-audio.js';
import {
  DEFAULT_FILTER_OPTIONS,
  judgeTranscript,
  type TranscriptFilterOptions,
} from './transcript-filter.js';
import type { AsrWord } from './types.js';

const SAMPLES_PER_MS = 16;

export interface StreamingTranscriberOptions {
  scheduler: AsrScheduler;
  /** Re-decode cadence while speech goes on, in ms of audio; 0 turns partials off (default 500). */
  partialIntervalMs?: number;
  /** Language code, or undefined / `auto` for the engine's default. */
  language?: string;
  log?: Logger;
  /** Names this track in the scheduler (one waiting partial per track). Default: a fresh id. */
  streamKey?: string;
  /** Voiced audio a segment needs before anything is decoded, in ms (default 80). */
  minVoicedMs?: number;
  filter?: Partial<TranscriptFilterOptions>;
  /** A partial piece is frozen and a new one started past this length, in ms (default 28 000). */
  maxPartialPieceMs?: number;
}

/** The body of a `transcript.partial` event; the pipeline adds ids, track and time. */
export interface PartialTranscript {
  /** Session ms where the segment starts (identifies it). */
  segmentStartMs: number;
  committed: string;
  tentative: string;
  /** Audio received but not yet covered by this partial, in ms. */
  lagMs: number;
  /** Session ms up to which audio was decoded. */
  decodedToMs: number;
}

/** The body of a `transcript.final` event, times in session ms. */
export interface FinalTranscript {
  text: string;
  language: string;
  startMs: number;
  endMs: number;
  segments: AsrWord[];
  words?: AsrWord[];
}

export interface StreamingTranscriber {
  /** Partials of the open segment, in order. Completes on `close()`. */
  readonly partials: Observable<PartialTranscript>;
  /** Speech confirmed: `audio` is the segment so far (pre-speech padding included). */
  speechStart(startMs: number, audio: Float32Array): void;
  /** More audio of the open segment. */
  speechAudio(audio: Float32Array): void;
  /** Segment ended; `audio` is all of it. Resolves to the final, or null when it holds no speech. */
  speechEnd(
    startMs: number,
    endMs: number,
    audio: Float32Array,
    signal?: AbortSignal,
  ): Promise<FinalTranscript | null>;
  /** Resolves once no partial decode of the open segment is running (tests, orderly shutdown). */
  whenIdle(): Promise<void>;
  /** Drops the open segment and its decodes and completes `partials`. */
  close(): void;
}

interface OpenSegment {
  startMs: number;
  chunks: Float32Array[];
  samples: number;
  /** Sample offset in the segment where the current partial piece starts. */
  pieceStart: number;
  lastRequestAt: number;
  inFlight: Promise<void> | undefined;
  agreement: LocalAgreement;
  voicing: VoicingMeter;
  abort: AbortController;
  lastKey: string;
}

let streamCounter = 0;

/** Creates the transcriber of one session track. */
export function createStreamingTranscriber(
  options: StreamingTranscriberOptions,
): StreamingTranscriber {
  const scheduler = options.scheduler;
  const intervalSamples = (options.partialIntervalMs ?? 500) * SAMPLES_PER_MS;
  const minVoicedMs = options.minVoicedMs ?? 80;
  const maxPieceSamples = (options.maxPartialPieceMs ?? 28_000) * SAMPLES_PER_MS;
  const filter = { ...DEFAULT_FILTER_OPTIONS, ...options.filter };
  const language = options.language === 'auto' ? undefined : options.language;
  const streamKey = options.streamKey ?? `asr-stream-${++streamCounter}`;
  const log = (options.log ?? silentLogger).child({ stage: 'asr' });
  const partials = new Subject<PartialTranscript>();
  let segment: OpenSegment | undefined;
  let closed = false;

  const audioOf = (seg: OpenSegment, from = 0, to = seg.samples): Float32Array => {
    if (seg.chunks.length > 1) seg.chunks = [concat(seg.chunks, seg.samples)];
    return seg.chunks[0]?.subarray(from, to) ?? new Float32Array(0);
  };

  const append = (seg: OpenSegment, audio: Float32Array) => {
    seg.chunks.push(audio.slice());
    seg.samples += audio.length;
    seg.voicing.push(audio);
  };

  const maybeDecodePartial = (seg: OpenSegment) => {
    if (intervalSamples <= 0 || seg.inFlight || closed) return;
    if (seg.samples - seg.lastRequestAt < intervalSamples) return;
    if (seg.voicing.voicedMs < minVoicedMs) return;
    seg.lastRequestAt = seg.samples;
    seg.inFlight = decodePartial(seg).finally(() => {
      seg.inFlight = undefined;
      if (segment === seg) maybeDecodePartial(seg);
    });
  };

  const decodePartial = async (seg: OpenSegment) => {
    // A piece near 30 s is frozen at its quietest point: decoded once more up to there, its text
    // committed, and partials go on from there with the frozen text as the prompt.
    if (seg.samples - seg.pieceStart > maxPieceSamples) {
      const cut = quietestPoint(
        audioOf(seg),
        seg.pieceStart + maxPieceSamples / 2,
        seg.pieceStart + maxPieceSamples,
      );
      const frozen = await scheduler
        .transcribe(audioOf(seg, seg.pieceStart, cut), {
          language,
          prompt: seg.agreement.frozenText || undefined,
          priority: 'final',
          signal: seg.abort.signal,
        })
        .catch((err: unknown) => ignoreAbort(err, seg));
      if (segment !== seg) return;
      const piece = audioOf(seg, seg.pieceStart, cut);
      const ok = frozen && !judgeTranscript(frozen, piece, filter);
      seg.agreement.freezePiece(ok ? frozen.text : '');
      seg.pieceStart = cut;
      publish(seg, seg.samples);
    }

    const end = seg.samples;
    const piece = audioOf(seg, seg.pieceStart, end);
    const result = await scheduler
      .transcribe(piece, {
        language,
        prompt: seg.agreement.frozenText || undefined,
        priority: 'partial',
        streamKey,
        signal: seg.abort.signal,
      })
      .catch((err: unknown) => ignoreAbort(err, seg));
    // Late results of an ended segment, shed or rejected decodes publish nothing.
    if (!result || segment !== seg) return;
    if (judgeTranscript(result, piece, filter)) return;
    seg.agreement.update(result.text);
    publish(seg, end);
  };

  const publish = (seg: OpenSegment, decodedTo: number) => {
    const state = seg.agreement.state;
    const key = `${state.committed}\u0000${state.tentative}`;
    if (key === seg.lastKey || (!state.committed && !state.tentative)) return;
    seg.lastKey = key;
    partials.next({
      segmentStartMs: seg.startMs,
      committed: state.committed,
      tentative: state.tentative,
      lagMs: (seg.samples - decodedTo) / SAMPLES_PER_MS,
      decodedToMs: seg.startMs + decodedTo / SAMPLES_PER_MS,
    });
  };

  const ignoreAbort = (err: unknown, seg: OpenSegment): null => {
    if (!seg.abort.signal.aborted) log.warn({ err }, 'asr partial decode failed');
    return null;
  };

  const endSegment = () => {
    segment?.abort.abort(new Error('segment ended'));
    segment = undefined;
  };

  return {
    partials: partials.asObservable(),

    speechStart(startMs, audio) {
      if (closed) return;
      endSegment();
      segment = {
        startMs,
        chunks: [],
        samples: 0,
        pieceStart: 0,
        lastRequestAt: 0,
        inFlight: undefined,
        agreement: new LocalAgreement(),
        voicing: new VoicingMeter(),
        abort: new AbortController(),
        lastKey: '',
      };
      append(segment, audio);
      maybeDecodePartial(segment);
    },

    speechAudio(audio) {
      if (!segment || closed) return;
      append(segment, audio);
      maybeDecodePartial(segment);
    },

    async speechEnd(startMs, endMs, audio, signal) {
      endSegment();
      if (closed) return null;
      const endedAt = performance.now();
      if (voicedMs(audio) < minVoicedMs) {
        log.debug({ startMs, endMs }, 'asr segment without voice skipped');
        return null;
      }
      const stitched = await decodeLong(scheduler, audio, {
        language,
        priority: 'final',
        signal,
        filter,
      });
      metrics.speechEndToFinalSeconds.observe((performance.now() - endedAt) / 1000);
      if (!stitched) {
        log.debug({ startMs, endMs }, 'asr segment rejected as non-speech');
        return null;
      }
      const shift = (items: AsrWord[]) =>
        items.map((w) => ({ ...w, startMs: w.startMs + startMs, endMs: w.endMs + startMs }));
      log.debug(
        { startMs, endMs, pieces: stitched.piecesMs.length - 1, pii: { text: stitched.text } },
        'asr final',
      );
      return {
        text: stitched.text,
        language: stitched.language,
        startMs,
        endMs,
        segments: shift(stitched.segments),
        words: stitched.words ? shift(stitched.words) : undefined,
      };
    },

    async whenIdle() {
      while (segment?.inFlight) await segment.inFlight;
    },

    close() {
      if (closed) return;
      closed = true;
      endSegment();
      partials.complete();
    },
  };
}

function concat(chunks: Float32Array[], total: number): Float32Array {
  const out = new Float32Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
