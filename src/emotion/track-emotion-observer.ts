/**
 * The emotion stage of one speaker track, behind the pipeline's `TrackEmotionObserver` port.
 * Fed prosody frames, speech starts, partial and final transcripts, it emits
 * `emotion.update` every `emotion.updateIntervalMs` of speech (by audio time, so results do not
 * depend on machine speed) and one `emotion.final` per utterance, with the transcript's
 * segmentId. Voice features are z-scores against the speaker's own baseline, which learns from
 * each finished utterance.
 */
import { Subject, type Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import { metrics } from '../metrics/metrics.js';
import type { ProsodyFrame } from '../protocol/messages.js';
import { summarizeProsody } from '../prosody/segment-summary.js';
import type { EmotionObserverFactory, EmotionResult, TrackEmotionObserver } from './types.js';
import { SpeechEmotionModel, TextValenceModel } from './emotion-models.js';
import { fuseEmotion, loadFusionModel, type FusionInput } from './fusion.js';
import type { SoftmaxModel } from './softmax-model.js';
import { SpeakerBaseline, voiceValues } from './speaker-baseline.js';
import { textSentiment } from './text-sentiment.js';

export interface TrackEmotionOptions {
  model: SoftmaxModel;
  /** Interval of `emotion.update` during speech, in ms of audio. */
  updateIntervalMs: number;
  log: Logger;
  textModel?: TextValenceModel;
  audioModel?: SpeechEmotionModel;
  baseline?: SpeakerBaseline;
}

/** Prosody kept per track, in ms: the longest utterance judged as a whole. */
const MAX_FRAMES_MS = 30_000;
/** With no utterance open, frames this far back are kept (speech starts are reported late). */
const PREROLL_MS = 3_000;
/** An update needs a voiced frame this recently, in ms: no updates from trailing silence. */
const VOICED_RECENT_MS = 600;
/** Audio kept for the speech-emotion model, in ms (only with `emotion.audioModel`). */
const AUDIO_RING_MS = 12_000;

interface OpenSegment {
  id: string;
  startMs: number;
  text: string;
  lastUpdateMs: number;
}

export class TrackEmotion implements TrackEmotionObserver {
  private readonly subject = new Subject<EmotionResult>();
  readonly results: Observable<EmotionResult> = this.subject.asObservable();
  private readonly baseline: SpeakerBaseline;
  private frames: ProsodyFrame[] = [];
  private open: OpenSegment | undefined;
  private lastVoicedMs = -Infinity;
  /** Finals leave in order even when a model makes some of them wait. */
  private finals: Promise<void> = Promise.resolve();
  private closed = false;
  private audioRing?: Float32Array;
  private audioWritten = 0;

  constructor(private readonly options: TrackEmotionOptions) {
    this.baseline = options.baseline ?? new SpeakerBaseline();
    if (options.audioModel) this.audioRing = new Float32Array(16 * AUDIO_RING_MS);
  }

  prosody(frames: ProsodyFrame[]): void {
    if (this.closed || frames.length === 0) return;
    for (const f of frames) {
      this.frames.push(f);
      if (f.voiced) this.lastVoicedMs = f.timeMs;
    }
    const nowMs = frames.at(-1)!.timeMs;
    this.trim(nowMs);

    const open = this.open;
    if (!open || nowMs - open.lastUpdateMs < this.options.updateIntervalMs) return;
    if (nowMs - this.lastVoicedMs > VOICED_RECENT_MS) return;
    open.lastUpdateMs = nowMs;
    const input = this.input(open.startMs, nowMs, open.text);
    this.emit('emotion.update', open.id, input.fusion);
  }

  /** 16 kHz samples of the track, for the optional speech-emotion model (ignored without one). */
  audio(samples: Float32Array): void {
    const ring = this.audioRing;
    if (!ring) return;
    for (let i = 0; i < samples.length; i++)
      ring[(this.audioWritten + i) % ring.length] = samples[i]!;
    this.audioWritten += samples.length;
  }

  speechStarted(segmentId: string, startMs: number): void {
    if (this.closed) return;
    this.open = { id: segmentId, startMs, text: '', lastUpdateMs: startMs };
  }

  partial(segmentId: string, text: string): void {
    if (this.open?.id === segmentId) this.open.text = text;
  }

  final(segmentId: string, text: string, startMs: number, endMs: number): void {
    if (this.closed) return;
    if (this.open?.id === segmentId) this.open = undefined;

    const { fusion, values, voicedS } = this.input(startMs, endMs, text);
    // Judged against the baseline as it was, then learnt.
    this.baseline.update(values, voicedS);

    const { textModel, audioModel } = this.options;
    if (!textModel && !audioModel) {
      this.emit('emotion.final', segmentId, fusion);
      return;
    }
    const audio = audioModel ? this.audioBetween(startMs, endMs) : undefined;
    const pending = Promise.all([
      textModel && text.trim() ? textModel.valence(text) : undefined,
      audioModel && audio ? audioModel.classify(audio) : undefined,
    ]);
    this.finals = this.finals
      .then(() => pending)
      .then(([modelValence, audioProbs]) => {
        this.emit('emotion.final', segmentId, {
          ...fusion,
          modelValence,
          textModel: textModel?.name,
          audioProbs,
        });
      })
      .catch((err: unknown) => this.options.log.warn({ err, segmentId }, 'emotion final failed'));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.finals.then(() => this.subject.complete());
    this.frames = [];
  }

  /** Resolves once every final asked for so far has been emitted. */
  flushed(): Promise<void> {
    return this.finals;
  }

  private input(startMs: number, endMs: number, text: string) {
    const frames = this.framesBetween(startMs, endMs);
    const summary = summarizeProsody(frames);
    const values = voiceValues(summary);
    const voicedS = (summary.voicedRatio * summary.durationMs) / 1000;
    const trimmed = text.trim();
    const fusion: FusionInput = {
      voice: this.baseline.zScores(values),
      voicedMs: voicedS * 1000,
      text: trimmed ? textSentiment(trimmed) : null,
    };
    return { fusion, values, voicedS };
  }

  private emit(
    type: 'emotion.update' | 'emotion.final',
    segmentId: string,
    input: FusionInput,
  ): void {
    if (this.subject.closed) return;
    const t0 = performance.now();
    const result = fuseEmotion(this.options.model, input);
    metrics.emotionSeconds.observe((performance.now() - t0) / 1000);
    this.subject.next({ type, segmentId, ...result });
  }

  private framesBetween(startMs: number, endMs: number): ProsodyFrame[] {
    return this.frames.filter((f) => f.timeMs >= startMs && f.timeMs <= endMs);
  }

  private trim(nowMs: number): void {
    const keepFrom = this.open
      ? Math.max(this.open.startMs - PREROLL_MS, nowMs - MAX_FRAMES_MS)
      : nowMs - MAX_FRAMES_MS;
    // Finals arrive after the ASR decode; frames of a closed utterance stay MAX_FRAMES_MS for them.
    let drop = 0;
    while (drop < this.frames.length && this.frames[drop]!.timeMs < keepFrom) drop++;
    if (drop > 256 || (drop > 0 && drop === this.frames.length)) this.frames.splice(0, drop);
  }

  private audioBetween(startMs: number, endMs: number): Float32Array | undefined {
    const ring = this.audioRing!;
    const from = Math.max(Math.round(startMs * 16), this.audioWritten - ring.length, 0);
    const to = Math.min(Math.round(endMs * 16), this.audioWritten);
    if (to - from < 1600) return undefined;
    const out = new Float32Array(to - from);
    for (let i = 0; i < out.length; i++) out[i] = ring[(from + i) % ring.length]!;
    return out;
  }
}

/**
 * The emotion stage for `SessionDeps.emotion`: one `TrackEmotion` per track, or undefined where
 * emotion is off (server setting, `session.start` `emotion.enabled: false`, or the track's
 * channel index in `emotion.disabledChannels`). Loads the weights once; a bad
 * `emotion.weightsFile` throws `UT_ERR_BAD_WEIGHTS` here, at boot.
 */
export function createEmotionObserverFactory(
  config: UndertoneConfig,
  log: Logger,
): EmotionObserverFactory {
  const stageLog = log.child({ stage: 'emotion' });
  const model = loadFusionModel(config, stageLog);
  const textModel = config.emotion.textModel
    ? new TextValenceModel(config.emotion.textModel, stageLog)
    : undefined;
  const audioModel = config.emotion.audioModel
    ? new SpeechEmotionModel(config.emotion.audioModel, stageLog)
    : undefined;
  // Start loading at boot so the first call does not wait; failures are logged and skipped.
  void textModel?.ready();
  void audioModel?.ready();

  return (ctx, track) => {
    const { start } = ctx;
    if (!config.emotion.enabled || start.emotion?.enabled === false) return undefined;
    if (start.emotion?.disabledChannels?.includes(track.index)) return undefined;
    return new TrackEmotion({
      model,
      updateIntervalMs: ctx.config.emotion.updateIntervalMs,
      log: ctx.log.child({ stage: 'emotion', track: track.index }),
      textModel,
      audioModel,
    });
  };
}
