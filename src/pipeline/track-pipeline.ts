/**
 * The always-on analysis of one speaker track: 16 kHz audio -> Silero VAD and prosody ->
 * `vad.speech_started` / `vad.speech_stopped`, batched `prosody`, streaming ASR ->
 * `transcript.partial` / `transcript.final`, and the emotion observer when one is plugged in.
 *
 * When the audio completes (session end) the open segment is closed and its final is delivered
 * before the stage completes, so a caller who leaves mid-sentence still gets a transcript.
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { Logger } from 'pino';
import type { FinalTranscript, StreamingTranscriber } from '../asr/streaming-transcriber.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import type { ProsodyFrame } from '../protocol/messages.js';
import type { VadEvent, VadOptions, VadStream } from '../vad/types.js';
import type { ProsodyPort, TrackEmotionObserver } from './stage-ports.js';
import type { SessionOutput, TurnSignal } from './session-output.js';

type EventBody = Extract<SessionOutput, { kind: 'event' }>['body'];

/** Per-session settings that `session.update` may change while the track runs. */
export interface TrackSettings {
  prosodyIntervalMs: number;
  emotionEnabled: boolean;
}

export interface TrackDeps {
  track: number;
  role?: string;
  sessionPrefix: string;
  createVad: (options: Partial<VadOptions>, log: Logger) => VadStream;
  vadOptions: Partial<VadOptions>;
  prosody?: ProsodyPort;
  transcriber: StreamingTranscriber;
  emotion?: TrackEmotionObserver;
  settings: TrackSettings;
  /** Emit VAD probability windows as signals (the caller track of an agent session). */
  probabilitySignals: boolean;
  log: Logger;
}

export function trackPipeline(deps: TrackDeps): OperatorFunction<Float32Array, SessionOutput> {
  return (audio$) =>
    new Observable<SessionOutput>((subscriber) => {
      const { track, role, transcriber, settings, log } = deps;
      const vad = deps.createVad(deps.vadOptions, deps.log);
      let positionMs = 0;
      let segmentCount = 0;
      let openSegment: string | undefined;
      let finals: Promise<void> = Promise.resolve();
      let prosodyBatch: ProsodyFrame[] = [];
      let done = false;

      const emit = (out: SessionOutput): void => {
        if (!subscriber.closed) subscriber.next(out);
      };
      const event = (body: EventBody, timeMs = positionMs): void =>
        emit({ kind: 'event', body, timeMs });
      const signal = (sig: TurnSignal): void => emit({ kind: 'signal', signal: sig });
      const newSegmentId = (): string => `${deps.sessionPrefix}-t${track}-s${++segmentCount}`;

      const onSpeechStart = (ev: Extract<VadEvent, { type: 'speech-start' }>): void => {
        const segmentId = newSegmentId();
        openSegment = segmentId;
        event({ type: 'vad.speech_started', track, startMs: ev.startMs });
        signal({ type: 'vad', track, event: { ...ev, audio: EMPTY }, segmentId });
        transcriber.speechStart(ev.startMs, ev.audio);
        if (settings.emotionEnabled) deps.emotion?.speechStarted(segmentId, ev.startMs);
      };

      const onSpeechEnd = (ev: Extract<VadEvent, { type: 'speech-end' }>): void => {
        const segmentId = openSegment ?? newSegmentId();
        openSegment = undefined;
        const { startMs, endMs } = ev;
        event({ type: 'vad.speech_stopped', track, segmentId, startMs, endMs });
        // The turn's timings start here: when the VAD decided the speech ended (after its
        // silence), on the wall clock, not when the audio of the speech end arrived.
        const speechEndWallMs = performance.now();
        signal({ type: 'vad', track, event: { ...ev, audio: EMPTY }, segmentId, speechEndWallMs });

        const finalSignal = (text: string): void => {
          const finalWallMs = performance.now();
          const at = { startMs, endMs, speechEndWallMs, finalWallMs };
          signal({ type: 'final', track, segmentId, text, ...at });
        };
        const onFinal = (final: FinalTranscript | null): void => {
          // A segment without speech (null) gets no event, but turn-taking still hears of it.
          const text = final?.text.trim() ?? '';
          if (final) {
            const { language, words, segments } = final;
            event({
              type: 'transcript.final',
              track,
              segmentId,
              text,
              language,
              startMs: final.startMs,
              endMs: final.endMs,
              words,
              segments,
              ...(role ? { role } : {}),
            });
            if (settings.emotionEnabled) {
              deps.emotion?.final(segmentId, text, final.startMs, final.endMs);
            }
          }
          finalSignal(text);
        };
        const onFailure = (err: unknown): void => {
          log.warn({ err, segmentId }, 'asr final failed');
          const message = 'transcription of a segment failed';
          event({ type: 'error', code: ERROR_CODES.asrFailed, message, recoverable: true });
          finalSignal('');
        };

        const pending = transcriber.speechEnd(startMs, endMs, ev.audio);
        // Finals leave in segment order even when decodes finish out of order.
        finals = finals.then(() => pending.then(onFinal, onFailure));
      };

      const onVad = (ev: VadEvent): void => {
        if (ev.type === 'probability') {
          if (deps.probabilitySignals) signal({ type: 'vad', track, event: ev });
        } else if (ev.type === 'speech-start') {
          onSpeechStart(ev);
        } else if (ev.type === 'speech-audio') {
          transcriber.speechAudio(ev.audio);
        } else {
          onSpeechEnd(ev);
        }
      };

      const partialSub = transcriber.partials.subscribe((p) => {
        const segmentId = openSegment;
        if (!segmentId) return;
        const { committed, tentative } = p;
        const lagMs = Math.round(p.lagMs);
        event({ type: 'transcript.partial', track, segmentId, committed, tentative, lagMs });
        const text = `${committed} ${tentative}`.trim();
        if (settings.emotionEnabled) deps.emotion?.partial(segmentId, text);
      });
      const emotionSub = deps.emotion?.results.subscribe((body) => event({ ...body, track }));
      const vadSub = vad.events.subscribe({
        next: onVad,
        error: (err: unknown) => {
          log.error({ err }, 'vad stream failed');
          const message = 'voice activity detection failed';
          event({ type: 'error', code: ERROR_CODES.internal, message, recoverable: false });
        },
      });

      const flushProsody = (force: boolean): void => {
        const first = prosodyBatch[0];
        const last = prosodyBatch.at(-1);
        if (!first || !last) return;
        const interval = settings.prosodyIntervalMs;
        if (interval <= 0) {
          prosodyBatch = [];
          return;
        }
        if (!force && last.timeMs - first.timeMs < interval) return;
        event({ type: 'prosody', track, frames: prosodyBatch });
        prosodyBatch = [];
      };

      const inputSub = audio$.subscribe({
        next: (samples) => {
          if (samples.length === 0) return;
          positionMs += samples.length / 16;
          vad.push(samples);
          if (deps.prosody) {
            const frames = deps.prosody.push(samples);
            if (frames.length > 0) {
              if (settings.emotionEnabled) deps.emotion?.prosody(frames);
              prosodyBatch.push(...frames);
              flushProsody(false);
            }
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          void (async () => {
            await vad.flush();
            await finals;
            flushProsody(true);
            done = true;
            subscriber.complete();
          })().catch((err: unknown) => subscriber.error(err));
        },
      });

      return () => {
        if (!done) log.debug({ track }, 'track stopped before its end');
        inputSub.unsubscribe();
        vadSub.unsubscribe();
        partialSub.unsubscribe();
        emotionSub?.unsubscribe();
        vad.close();
        transcriber.close();
        deps.emotion?.close();
      };
    });
}

const EMPTY = new Float32Array(0);
