/**
 * Training of the emotion classifier for `undertone emotion fit`: labelled feature rows ->
 * standardisation -> softmax regression by full-batch gradient descent with L2 -> a weights
 * file. Deterministic: the held-out split is a seeded shuffle.
 */
import type { EmotionLabel } from '../protocol/messages.js';
import defaultWeights from './default-weights.json' with { type: 'json' };
import {
  dot,
  softmax,
  SoftmaxModel,
  type EmotionWeightsFile,
  type FusionFeature,
} from './softmax-model.js';

export interface LabelledRow {
  features: Partial<Record<FusionFeature, number>>;
  label: EmotionLabel;
}

export interface TrainOptions {
  /** Features to use, in order. */
  features: readonly FusionFeature[];
  /** L2 penalty on the weights (not the biases). Default 1e-3. */
  l2?: number;
  /** Gradient steps. Default 2000. */
  iterations?: number;
  /** Step size on standardised inputs. Default 0.5. */
  learningRate?: number;
}

export interface TrainResult {
  file: EmotionWeightsFile;
  trainAccuracy: number;
}

/** Fits the classifier to `rows` (each label seen becomes a class, in first-seen order). */
export function trainSoftmax(rows: readonly LabelledRow[], options: TrainOptions): TrainResult {
  const { features } = options;
  const l2 = options.l2 ?? 1e-3;
  const iterations = options.iterations ?? 2000;
  const lr = options.learningRate ?? 0.5;
  const labels = [...new Set(rows.map((r) => r.label))];
  if (labels.length < 2) throw new Error('need at least two distinct labels to fit');

  const raw = rows.map((r) => features.map((f) => r.features[f] ?? 0));
  const mean = features.map((_, j) => raw.reduce((s, x) => s + x[j]!, 0) / raw.length);
  const sd = features.map((_, j) => {
    const v = raw.reduce((s, x) => s + (x[j]! - mean[j]!) ** 2, 0) / raw.length;
    return v > 1e-12 ? Math.sqrt(v) : 1;
  });
  const x = raw.map((row) => row.map((v, j) => (v - mean[j]!) / sd[j]!));
  const y = rows.map((r) => labels.indexOf(r.label));

  const k = labels.length;
  const n = features.length;
  const w = Array.from({ length: k }, () => new Array<number>(n).fill(0));
  const b = new Array<number>(k).fill(0);
  for (let it = 0; it < iterations; it++) {
    const gw = Array.from({ length: k }, () => new Array<number>(n).fill(0));
    const gb = new Array<number>(k).fill(0);
    for (let i = 0; i < x.length; i++) {
      const p = softmax(w.map((row, c) => b[c]! + dot(row, x[i]!)));
      for (let c = 0; c < k; c++) {
        const err = p[c]! - (y[i] === c ? 1 : 0);
        gb[c]! += err;
        for (let j = 0; j < n; j++) gw[c]![j]! += err * x[i]![j]!;
      }
    }
    for (let c = 0; c < k; c++) {
      b[c]! -= (lr * gb[c]!) / x.length;
      for (let j = 0; j < n; j++) w[c]![j]! -= lr * (gw[c]![j]! / x.length + l2 * w[c]![j]!);
    }
  }

  const file: EmotionWeightsFile = {
    format: 'undertone-emotion-weights',
    version: 1,
    features: [...features],
    labels,
    standardize: { mean, sd },
    weights: w,
    bias: b,
    arousal: affectMap('arousal', features),
    valence: affectMap('valence', features),
    note: `fitted by undertone emotion fit on ${rows.length} rows (l2 ${l2}, ${iterations} steps); arousal/valence maps are the shipped defaults`,
  };
  return { file, trainAccuracy: accuracy(new SoftmaxModel(file), rows) };
}

/** Share of rows whose most likely class is their label. */
export function accuracy(model: SoftmaxModel, rows: readonly LabelledRow[]): number {
  if (rows.length === 0) return 0;
  let right = 0;
  for (const row of rows) {
    const p = model.probabilities(row.features as Record<FusionFeature, number>);
    if (model.labels[p.indexOf(Math.max(...p))] === row.label) right++;
  }
  return right / rows.length;
}

/** Splits rows into train and held-out sets by a seeded shuffle. */
export function splitRows<T>(
  rows: readonly T[],
  heldOutShare: number,
  seed = 1,
): { train: T[]; test: T[] } {
  const shuffled = [...rows];
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const cut = Math.round(shuffled.length * (1 - heldOutShare));
  return { train: shuffled.slice(0, cut), test: shuffled.slice(cut) };
}

/** The default arousal or valence map restricted to `features`. */
function affectMap(which: 'arousal' | 'valence', features: readonly FusionFeature[]) {
  const defaults = defaultWeights[which];
  return {
    weights: features.map((f) => defaults.weights[defaultWeights.features.indexOf(f)] ?? 0),
    bias: defaults.bias,
  };
}
