/**
 * One agent reply as an Observable: LLM tokens -> `response.text.delta` -> sentence chunker ->
 * TTS -> output encoder -> paced agent audio. Subscribing starts it; `cancel$` stops it at once
 * (engines aborted, no frame sent after) and makes it emit `response.cancelled` with what was
 * heard; unsubscribing without a cancel aborts silently.
 */
import { Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import { isUndertoneError, UndertoneError } from '../errors/undertone-error.js';
import type { AgentAudioEncoder } from '../audio/agent-audio-encoder.js';
import { Resampler } from '../audio/resampler.js';
import type { ChatMessage, LlmEngine } from '../llm/types.js';
import type { TtsEngine } from '../tts/types.js';
import { SentenceChunker } from '../tts/sentence-chunker.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import type { ResponseCancelledEvent } from '../protocol/messages.js';
import { AgentSpeaker, type PlayoutFrame } from './agent-speaker.js';
import { CancelledError, iterateGuarded } from './engine-guard.js';
import { computeTimings, type TurnClock } from './turn-timings.js';
import type { SessionOutput } from './session-output.js';

export type CancelReason = ResponseCancelledEvent['reason'];

export interface ReplyRequest {
  responseId: string;
  stream: number;
  inReplyTo: string;
  userText: string;
  messages: ChatMessage[];
  /** Wall time (ms, `performance.now()`) the user's speech ended, or the text arrived. */
  speechEndWallMs: number;
  /** Wall time the final transcript arrived (null for typed input). */
  finalWallMs: number | null;
}

/** How a reply ended, for the turn pipeline's history and state. */
export interface ReplySettled {
  outcome: 'done' | 'cancelled' | 'failed';
  responseId: string;
  userText: string;
  /** Whole reply for `done`; the heard part otherwise. */
  assistantText: string;
  playedMs: number;
}

export interface ReplyDeps {
  config: UndertoneConfig;
  llm: LlmEngine;
  tts: TtsEngine;
  encoder: AgentAudioEncoder;
  log: Logger;
  /** Registers the speaker so `playback.position` reports reach it. */
  onSpeaker?: (speaker: AgentSpeaker | undefined) => void;
  /** A frame left with its due play time (wall ms): the echo guard's reference. */
  onPlayout?: (frame: PlayoutFrame, playStartWallMs: number, contiguous: boolean) => void;
  onSettled: (settled: ReplySettled) => void;
}

export interface SentenceAudio {
  text: string;
  startMs: number;
  endMs: number;
}

export function replyStream(
  request: ReplyRequest,
  deps: ReplyDeps,
  cancel$: Observable<CancelReason>,
): Observable<SessionOutput> {
  return new Observable<SessionOutput>((subscriber) => {
    const { config, llm, tts, encoder } = deps;
    const log = deps.log.child({ responseId: request.responseId });
    const abort = new AbortController();
    const clock: TurnClock = { replyStartWallMs: performance.now(), ttsBusyMs: 0 };
    const sentences: SentenceAudio[] = [];
    const frameMs = encoder.frameMs;
    const toReference = new Resampler(tts.sampleRateHz, 16_000);
    let reference: Float32Array = new Float32Array(0);
    let ttsSamples = 0;
    let text = '';
    let settled = false;

    const emit = (output: SessionOutput): void => {
      if (!subscriber.closed) subscriber.next(output);
    };
    const speaker = new AgentSpeaker({
      responseId: request.responseId,
      stream: request.stream,
      frameMs,
      playbackLeadMs: config.turn.playbackLeadMs,
      send: (frame) => {
        if (frame.seq === 0) emit({ kind: 'state', state: 'agent-speaking' });
        emit({ kind: 'audio', frame });
      },
      onPlayout: deps.onPlayout,
    });
    deps.onSpeaker?.(speaker);
    encoder.reset();

    const { responseId, userText } = request;
    type Outcome = ReplySettled['outcome'];
    const settle = (outcome: Outcome, assistantText: string, playedMs: number): void => {
      if (settled) return;
      settled = true;
      abort.abort();
      deps.onSpeaker?.(undefined);
      deps.onSettled({ outcome, responseId, userText, assistantText, playedMs });
    };
    const event = (body: Extract<SessionOutput, { kind: 'event' }>['body']): void =>
      emit({ kind: 'event', body });

    /** Stops everything now and reports the part heard. */
    const cut = (reason: CancelReason): void => {
      if (settled) return;
      const playedMs = speaker.stop();
      const playedText = heardText(sentences, playedMs);
      event({
        type: 'response.cancelled',
        responseId,
        reason,
        playedMs: Math.round(playedMs),
        playedText,
        clearAudio: true,
      });
      log.debug({ reason, playedMs, sentMs: speaker.sentMs }, 'response cancelled');
      settle(reason === 'error' ? 'failed' : 'cancelled', playedText, playedMs);
      subscriber.complete();
    };
    const cancelSub = cancel$.subscribe((reason) => cut(reason));

    const enqueueFrames = (frames: { payload: Uint8Array }[]): void => {
      for (const frame of frames) {
        // The reference of a frame is exactly one frame long (zeros where the resampler lags).
        const need = frameMs * 16;
        const ref = new Float32Array(need);
        ref.set(reference.subarray(0, need));
        reference = reference.slice(Math.min(need, reference.length));
        speaker.enqueue({ payload: frame.payload, reference16k: ref });
      }
    };

    /** `queuedWallMs`: when the sentence was complete and queued for TTS. */
    const speak = async (sentence: string, queuedWallMs: number): Promise<void> => {
      const mediaMs = (): number => (ttsSamples / tts.sampleRateHz) * 1000;
      const startMs = mediaMs();
      const requested = performance.now();
      let chunkWait = requested;
      await iterateGuarded(
        tts.synthesize(sentence, { signal: abort.signal, voice: config.tts.voice }),
        {
          signal: abort.signal,
          timeoutMs: config.tts.timeoutMs,
          codes: { failed: ERROR_CODES.ttsFailed, timeout: ERROR_CODES.ttsTimeout },
          what: 'TTS',
        },
        (chunk) => {
          const now = performance.now();
          clock.ttsBusyMs += now - chunkWait;
          if (clock.ttsFirstAudioWallMs === undefined && chunk.length > 0) {
            clock.spokenSentenceWallMs = queuedWallMs;
            clock.ttsRequestWallMs = requested;
            clock.ttsFirstAudioWallMs = now;
          }
          ttsSamples += chunk.length;
          reference = concat(reference, toReference.push(chunk));
          enqueueFrames(encoder.push(chunk, tts.sampleRateHz));
          chunkWait = performance.now();
        },
      );
      sentences.push({ text: sentence, startMs, endMs: mediaMs() });
    };

    const run = async (): Promise<void> => {
      const chunker = new SentenceChunker();
      let speaking: Promise<void> = Promise.resolve();
      const queueSentence = (sentence: string): void => {
        const queuedWallMs = performance.now();
        speaking = speaking.then(() => speak(sentence, queuedWallMs));
        speaking.catch(() => undefined);
      };

      const { maxTokens, temperature, timeoutMs } = config.llm;
      clock.llmRequestWallMs = performance.now();
      await iterateGuarded(
        llm.generate(request.messages, { signal: abort.signal, maxTokens, temperature }),
        {
          signal: abort.signal,
          timeoutMs,
          codes: { failed: ERROR_CODES.llmFailed, timeout: ERROR_CODES.llmTimeout },
          what: 'LLM',
        },
        (token) => {
          if (!token) return;
          clock.llmFirstTokenWallMs ??= performance.now();
          text += token;
          event({ type: 'response.text.delta', responseId, delta: token });
          for (const sentence of chunker.push(token)) queueSentence(sentence);
        },
      );
      clock.llmEndWallMs = performance.now();
      for (const sentence of chunker.flush()) queueSentence(sentence);
      await speaking;

      enqueueFrames(encoder.flush());
      speaker.endInput();
      await speaker.finished();
    };

    const { inReplyTo, stream } = request;
    event({ type: 'response.started', responseId, inReplyTo, stream });
    emit({ kind: 'state', state: 'thinking' });

    run().then(
      () => {
        if (settled || subscriber.closed) return;
        clock.firstFrameWallMs = speaker.firstFrameWallMs;
        const timings = computeTimings(request, clock);
        const audioMs = speaker.sentMs;
        event({ type: 'response.done', responseId, text: text.trim(), audioMs, timings });
        settle('done', text.trim(), speaker.sentMs);
        subscriber.complete();
      },
      (err: unknown) => {
        if (settled || subscriber.closed || err instanceof CancelledError) return;
        const coded = isUndertoneError(err)
          ? err
          : new UndertoneError(ERROR_CODES.internal, 'reply failed', { cause: err });
        log.warn({ err: coded, code: coded.code }, 'reply failed');
        event({ type: 'error', code: coded.code, message: coded.message, recoverable: true });
        cut('error');
      },
    );

    return () => {
      cancelSub.unsubscribe();
      if (!settled) {
        speaker.stop();
        settle('cancelled', heardText(sentences, speaker.playedMs()), speaker.playedMs());
      }
    };
  });
}

/**
 * The text the caller heard by `playedMs`: whole sentences that finished playing, then the share
 * of the words of the one cut, in proportion to the audio of it that played.
 */
export function heardText(sentences: readonly SentenceAudio[], playedMs: number): string {
  const parts: string[] = [];
  for (const sentence of sentences) {
    if (sentence.endMs <= playedMs) {
      parts.push(sentence.text);
      continue;
    }
    if (sentence.startMs < playedMs && sentence.endMs > sentence.startMs) {
      const share = (playedMs - sentence.startMs) / (sentence.endMs - sentence.startMs);
      const words = sentence.text.split(/\s+/u);
      const kept = words.slice(0, Math.floor(share * words.length)).join(' ');
      if (kept) parts.push(kept);
    }
    break;
  }
  return parts.join(' ');
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
