/**
 * The emotion classifier: multinomial logistic regression (softmax) over a named feature vector,
 * with the standardisation it was trained with, plus the linear arousal and valence maps. The
 * same file format holds the shipped defaults (`default-weights.json`) and weights written by
 * `undertone emotion fit`, loaded through `emotion.weightsFile`.
 */
import { readFileSync } from 'node:fs';
import { UndertoneError } from '../errors/undertone-error.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import type { EmotionLabel } from '../protocol/messages.js';

/** Features the fusion computes, in this order; a weights file may use any subset. */
export const FUSION_FEATURES = [
  'f0Z',
  'energyZ',
  'rateZ',
  'voicedZ',
  'textValence',
  'textEmphasis',
] as const;
export type FusionFeature = (typeof FUSION_FEATURES)[number];

/** Labels a classifier may predict (`uncertain` is decided from the evidence, never learnt). */
export const CLASS_LABELS: readonly EmotionLabel[] = [
  'neutral',
  'happy',
  'sad',
  'angry',
  'frustrated',
  'anxious',
];

export interface LinearMap {
  /** One weight per entry of `features`. */
  weights: number[];
  bias: number;
}

/** The JSON weights file. */
export interface EmotionWeightsFile {
  format: 'undertone-emotion-weights';
  version: 1;
  features: string[];
  labels: EmotionLabel[];
  /** Inputs are standardised as (x - mean) / sd before the class weights apply. */
  standardize: { mean: number[]; sd: number[] };
  /** `weights[label][feature]`, on standardised inputs. */
  weights: number[][];
  bias: number[];
  /** Arousal = tanh(map(x)), valence = tanh(map(x)) on raw (unstandardised) inputs. */
  arousal: LinearMap;
  valence: LinearMap;
  note?: string;
}

export class SoftmaxModel {
  readonly features: readonly FusionFeature[];
  readonly labels: readonly EmotionLabel[];

  constructor(readonly file: EmotionWeightsFile) {
    this.features = file.features as FusionFeature[];
    this.labels = file.labels;
  }

  /** Reads and validates a weights file; a bad file is `UT_ERR_BAD_WEIGHTS`. */
  static load(path: string): SoftmaxModel {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new UndertoneError(
        ERROR_CODES.badWeights,
        `cannot read emotion weights ${path}: ${(err as Error).message}`,
        { category: 'bad-input', cause: err },
      );
    }
    return new SoftmaxModel(validateWeights(parsed, path));
  }

  /** Class probabilities, in `labels` order. */
  probabilities(x: Readonly<Record<FusionFeature, number>>): number[] {
    const { standardize, weights, bias } = this.file;
    const z = this.features.map(
      (f, j) => ((x[f] ?? 0) - standardize.mean[j]!) / standardize.sd[j]!,
    );
    return softmax(weights.map((row, k) => bias[k]! + dot(row, z)));
  }

  /** Arousal and valence in [-1, 1]. */
  affect(x: Readonly<Record<FusionFeature, number>>): { arousal: number; valence: number } {
    const raw = this.features.map((f) => x[f] ?? 0);
    const { arousal, valence } = this.file;
    return {
      arousal: Math.tanh(arousal.bias + dot(arousal.weights, raw)),
      valence: Math.tanh(valence.bias + dot(valence.weights, raw)),
    };
  }
}

export function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const exp = logits.map((l) => Math.exp(l - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

export function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Checks the shape of a parsed weights file; every problem is named in the error. */
export function validateWeights(value: unknown, source: string): EmotionWeightsFile {
  const bad = (why: string): never => {
    throw new UndertoneError(ERROR_CODES.badWeights, `emotion weights ${source}: ${why}`, {
      category: 'bad-input',
    });
  };
  const w = value as Partial<EmotionWeightsFile> | null;
  if (!w || typeof w !== 'object' || w.format !== 'undertone-emotion-weights')
    bad('not an undertone-emotion-weights file');
  const { features, labels, standardize, weights, bias, arousal, valence } =
    w as EmotionWeightsFile;
  if (!Array.isArray(features) || features.length === 0) bad('features missing');
  for (const f of features)
    if (!(FUSION_FEATURES as readonly string[]).includes(f))
      bad(`unknown feature ${f} (known: ${FUSION_FEATURES.join(', ')})`);
  if (!Array.isArray(labels) || labels.length < 2) bad('at least two labels needed');
  for (const l of labels)
    if (!CLASS_LABELS.includes(l)) bad(`unknown label ${l} (known: ${CLASS_LABELS.join(', ')})`);
  const n = features.length;
  const numbers = (a: unknown, len: number, what: string): void => {
    if (
      !Array.isArray(a) ||
      a.length !== len ||
      !a.every((v) => typeof v === 'number' && Number.isFinite(v))
    )
      bad(`${what} must be ${len} finite numbers`);
  };
  numbers(standardize?.mean, n, 'standardize.mean');
  numbers(standardize?.sd, n, 'standardize.sd');
  if (standardize.sd.some((s) => s <= 0)) bad('standardize.sd must be positive');
  if (!Array.isArray(weights) || weights.length !== labels.length)
    bad('weights must have one row per label');
  weights.forEach((row, k) => numbers(row, n, `weights[${k}]`));
  numbers(bias, labels.length, 'bias');
  for (const [name, map] of [
    ['arousal', arousal],
    ['valence', valence],
  ] as const) {
    numbers(map?.weights, n, `${name}.weights`);
    numbers([map.bias], 1, `${name}.bias`);
  }
  return w as EmotionWeightsFile;
}
