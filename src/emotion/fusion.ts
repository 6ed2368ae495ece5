/**
 * Fuses the speaker-relative voice features and the text valence of an utterance into arousal,
 * valence and emotion tags, with `uncertain` when the evidence is weak. The classifier is the
 * softmax model of `softmax-model.ts`: shipped defaults, or weights fitted with
 * `undertone emotion fit` and named by `emotion.weightsFile`.
 */
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import type { EmotionEvidence, EmotionLabel, EmotionTag } from '../protocol/messages.js';
import defaultWeights from './default-weights.json' with { type: 'json' };
import type { VoiceZ } from './speaker-baseline.js';
import { SoftmaxModel, validateWeights, type FusionFeature } from './softmax-model.js';
import type { TextSentiment } from './text-sentiment.js';

/** What one fusion looks at. */
export interface FusionInput {
  voice: VoiceZ;
  /** Voiced speech behind the voice features, in ms. */
  voicedMs: number;
  /** Sentiment of the utterance's text so far; null before any text. */
  text: TextSentiment | null;
  /** Valence from the optional text model, used instead of the lexicon's when present. */
  modelValence?: number;
  textModel?: string;
  /** Class probabilities from the optional speech-emotion model, mixed in equally. */
  audioProbs?: Partial<Record<EmotionLabel, number>>;
}

export interface FusionResult {
  tags: EmotionTag[];
  arousal: number;
  valence: number;
  uncertain: boolean;
  evidence: EmotionEvidence;
}

/** Voiced speech that makes voice evidence complete, in ms. */
const FULL_VOICE_MS = 1500;
/** Below this evidence (0..1) a result is uncertain. */
const MIN_EVIDENCE = 0.35;
/** Below this gap between the two most likely classes a result is uncertain. */
const MIN_MARGIN = 0.1;
/** Tags reported, besides `uncertain`. */
const TOP_TAGS = 3;

/** The shipped weights (hand-set; see README.md in this folder). */
export function defaultModel(): SoftmaxModel {
  return new SoftmaxModel(validateWeights(defaultWeights, 'default-weights.json'));
}

/** The configured model: `emotion.weightsFile` when set (a bad file throws a coded error), else the defaults. */
export function loadFusionModel(config: UndertoneConfig, log: Logger): SoftmaxModel {
  const path = config.emotion.weightsFile;
  if (!path) return defaultModel();
  const model = SoftmaxModel.load(path);
  log.info(
    { weightsFile: path, features: model.features, labels: model.labels },
    'emotion weights loaded',
  );
  return model;
}

/** The feature vector of an input, by name. */
export function fusionFeatures(input: FusionInput): Record<FusionFeature, number> {
  const textValence = input.modelValence ?? input.text?.valence ?? 0;
  return { ...input.voice, textValence, textEmphasis: input.text?.emphasis ?? 0 };
}

/** Arousal, valence and tags of one utterance (or the part of it heard so far). */
export function fuseEmotion(model: SoftmaxModel, input: FusionInput): FusionResult {
  const x = fusionFeatures(input);
  let probs = model.probabilities(x);
  if (input.audioProbs) {
    const audio = model.labels.map((l) => input.audioProbs![l] ?? 0);
    const audioSum = audio.reduce((a, b) => a + b, 0);
    if (audioSum > 0) probs = probs.map((p, k) => 0.5 * p + (0.5 * audio[k]!) / audioSum);
  }
  const { arousal, valence } = model.affect(x);

  const ranked = model.labels
    .map((label, k) => ({ label, score: probs[k]! }))
    .sort((a, b) => b.score - a.score);
  const margin = ranked[0]!.score - (ranked[1]?.score ?? 0);
  const voiceEvidence = 0.5 * Math.min(1, input.voicedMs / FULL_VOICE_MS);
  const textEvidence =
    input.text === null
      ? 0
      : input.text.sentimentWords > 0 || input.modelValence !== undefined
        ? 0.5
        : 0.3;
  // Voice features carry arousal, not valence: loud, fast, high speech is joy as often as anger.
  // Without a sentiment-bearing word a valenced label is a guess, so it is marked uncertain.
  const valenceUnknown =
    input.modelValence === undefined && (input.text === null || input.text.sentimentWords === 0);
  const uncertain =
    voiceEvidence + textEvidence < MIN_EVIDENCE ||
    margin < MIN_MARGIN ||
    (valenceUnknown && ranked[0]!.label !== 'neutral');

  const tags: EmotionTag[] = ranked
    .slice(0, TOP_TAGS)
    .map((t) => ({ label: t.label, score: round3(t.score) }));
  if (uncertain) tags.unshift({ label: 'uncertain', score: round3(1 - ranked[0]!.score) });

  const textValence =
    input.text === null && input.modelValence === undefined ? null : round3(x.textValence);
  return {
    tags,
    arousal: round3(arousal),
    valence: round3(valence),
    uncertain,
    evidence: {
      voice: Object.fromEntries(Object.entries(input.voice).map(([k, v]) => [k, round3(v)])),
      textValence,
      ...(input.textModel && input.modelValence !== undefined
        ? { textModel: input.textModel }
        : {}),
    },
  };
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
