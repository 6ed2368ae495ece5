/**
 * Optional transformers.js models for the emotion stage, loaded lazily from local folders:
 * - `emotion.textModel`: a text-classification model (sentiment, e.g. an SST-2 or star-rating
 *   export); its valence replaces the lexicon's on final transcripts.
 * - `emotion.audioModel`: an audio-classification model (speech emotion recognition); its class
 *   probabilities are mixed into the final tags.
 * A folder that is absent or fails to load is logged once and skipped: the lexicon and the
 * prosody fusion keep working without it. One loaded copy per folder per process.
 */
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { EmotionLabel } from '../protocol/messages.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- transformers.js pipelines are loosely typed */
type Classifier = (input: any, options?: any) => Promise<any>;

interface Loaded {
  classify: Classifier;
  name: string;
}

const loading = new Map<string, Promise<Loaded | undefined>>();

async function loadPipeline(
  task: 'text-classification' | 'audio-classification',
  folder: string,
  log: Logger,
): Promise<Loaded | undefined> {
  const key = `${task}:${folder}`;
  let pending = loading.get(key);
  if (!pending) {
    pending = (async () => {
      if (!existsSync(folder)) {
        log.warn({ task, folder }, 'emotion model folder not found; skipped');
        return undefined;
      }
      try {
        const { env, pipeline } = await import('@huggingface/transformers');
        env.allowRemoteModels = false;
        env.allowLocalModels = true;
        const classify = (await pipeline(task, folder)) as unknown as Classifier;
        log.info({ task, folder }, 'emotion model loaded');
        return { classify, name: folder.split(/[\\/]/).filter(Boolean).at(-1) ?? folder };
      } catch (err) {
        log.warn({ err, task, folder }, 'emotion model failed to load; skipped');
        return undefined;
      }
    })();
    loading.set(key, pending);
  }
  return pending;
}

/** Text valence from a local text-classification model. */
export class TextValenceModel {
  private model?: Promise<Loaded | undefined>;

  constructor(
    private readonly folder: string,
    private readonly log: Logger,
  ) {}

  /** Starts loading (idempotent); resolves true when the model is usable. */
  async ready(): Promise<boolean> {
    this.model ??= loadPipeline('text-classification', this.folder, this.log);
    return (await this.model) !== undefined;
  }

  get name(): string {
    return this.folder.split(/[\\/]/).filter(Boolean).at(-1) ?? this.folder;
  }

  /** Valence in [-1, 1], or undefined when the model is absent or fails on this text. */
  async valence(text: string): Promise<number | undefined> {
    if (!(await this.ready()) || !text.trim()) return undefined;
    try {
      const loaded = (await this.model)!;
      const out = await loaded.classify(text, { top_k: null });
      return valenceFromLabels(Array.isArray(out) ? out.flat() : [out]);
    } catch (err) {
      this.log.debug({ err }, 'text emotion model failed on a transcript');
      return undefined;
    }
  }
}

/**
 * Maps classifier labels to valence: POSITIVE/NEGATIVE (and NEUTRAL), `LABEL_0/1[/2]` read as
 * negative/(neutral)/positive, or `1 star` .. `5 stars`. Unknown labels count as neutral.
 */
export function valenceFromLabels(scores: Array<{ label: string; score: number }>): number {
  let total = 0;
  let weight = 0;
  const labelIds = scores.filter((s) => /^label_\d+$/i.test(s.label)).length;
  for (const { label, score } of scores) {
    const l = label.toLowerCase();
    let v = 0;
    const stars = /^(\d)\s*stars?$/.exec(l);
    if (stars) v = (Number(stars[1]) - 3) / 2;
    else if (l.startsWith('pos')) v = 1;
    else if (l.startsWith('neg')) v = -1;
    else if (/^label_\d+$/.test(l)) {
      const id = Number(l.slice(6));
      v = labelIds === 3 ? id - 1 : id === 0 ? -1 : 1;
    }
    total += v * score;
    weight += score;
  }
  return weight > 0 ? Math.max(-1, Math.min(1, total / weight)) : 0;
}

/** Our labels for common speech-emotion model labels (IEMOCAP / RAVDESS style). */
const AUDIO_LABELS: Record<string, EmotionLabel> = {
  neu: 'neutral',
  neutral: 'neutral',
  calm: 'neutral',
  hap: 'happy',
  happy: 'happy',
  happiness: 'happy',
  joy: 'happy',
  surprised: 'happy',
  exc: 'happy',
  sad: 'sad',
  sadness: 'sad',
  ang: 'angry',
  angry: 'angry',
  anger: 'angry',
  disgust: 'frustrated',
  fru: 'frustrated',
  fear: 'anxious',
  fearful: 'anxious',
  fea: 'anxious',
};

/** Speech emotion class probabilities from a local audio-classification model. */
export class SpeechEmotionModel {
  private model?: Promise<Loaded | undefined>;

  constructor(
    private readonly folder: string,
    private readonly log: Logger,
  ) {}

  async ready(): Promise<boolean> {
    this.model ??= loadPipeline('audio-classification', this.folder, this.log);
    return (await this.model) !== undefined;
  }

  /** Probabilities per label of ours (summing to 1), or undefined without a model. */
  async classify(
    samples16k: Float32Array,
  ): Promise<Partial<Record<EmotionLabel, number>> | undefined> {
    if (!(await this.ready()) || samples16k.length < 1600) return undefined;
    try {
      const out: Array<{ label: string; score: number }> = await (await this.model)!.classify(
        samples16k,
        { top_k: null },
      );
      const probs: Partial<Record<EmotionLabel, number>> = {};
      let sum = 0;
      for (const { label, score } of out) {
        const ours = AUDIO_LABELS[label.toLowerCase()];
        if (!ours) continue;
        probs[ours] = (probs[ours] ?? 0) + score;
        sum += score;
      }
      if (sum <= 0) return undefined;
      for (const k of Object.keys(probs) as EmotionLabel[]) probs[k] = probs[k]! / sum;
      return probs;
    } catch (err) {
      this.log.debug({ err }, 'speech emotion model failed on a segment');
      return undefined;
    }
  }
}
