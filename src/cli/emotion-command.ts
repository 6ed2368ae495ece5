/**
 * `undertone emotion fit <labelled.csv> [--out weights.json] [--holdout 0.2] [--l2 0.001]
 * [--iterations 2000]`: trains the emotion classifier (softmax regression) on labelled rows,
 * prints train and held-out accuracy, and writes a weights file for `emotion.weightsFile`.
 *
 * Two CSV forms, told apart by the header (first line):
 * - features: any of `f0Z,energyZ,rateZ,voicedZ,textValence,textEmphasis` plus `label`;
 * - recordings: `wav,text,label`; each WAV (path relative to the CSV) is run through the prosody
 *   tracker and the text through the lexicon, as the live observer does for a new speaker.
 * Labels: neutral, happy, sad, angry, frustrated, anxious. Fields may be double-quoted.
 *
 * Exit codes: 0 written, 1 failed (unreadable file, too few rows), 2 bad usage.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { EmotionLabel } from '../protocol/messages.js';
import {
  CLASS_LABELS,
  FUSION_FEATURES,
  SoftmaxModel,
  type FusionFeature,
} from '../emotion/softmax-model.js';
import { accuracy, splitRows, trainSoftmax, type LabelledRow } from '../emotion/train-softmax.js';
import { featuresOfFile } from '../emotion/utterance-features.js';

export const EMOTION_USAGE = `Usage: undertone emotion fit <labelled.csv> [options]

Trains the emotion classifier and writes weights for emotion.weightsFile.

CSV header, one of:
  ${FUSION_FEATURES.join(',')},label   (any subset of the features)
  wav,text,label                        (features extracted from each recording)
Labels: ${CLASS_LABELS.join(', ')}

Options:
  --out FILE         weights file to write (default emotion-weights.json)
  --holdout SHARE    share of rows held out to measure accuracy (default 0.2)
  --l2 X             L2 penalty (default 0.001)
  --iterations N     gradient steps (default 2000)
  --help             show this help`;

/** Runs `undertone emotion ...` with `argv` the words after `emotion`; resolves to the exit code. */
export async function emotionCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(`${EMOTION_USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'fit') {
    process.stderr.write(`undertone emotion: unknown subcommand "${sub}"\n\n${EMOTION_USAGE}\n`);
    return 2;
  }

  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        out: { type: 'string', default: 'emotion-weights.json' },
        holdout: { type: 'string', default: '0.2' },
        l2: { type: 'string', default: '0.001' },
        iterations: { type: 'string', default: '2000' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    process.stderr.write(`undertone emotion fit: ${(err as Error).message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${EMOTION_USAGE}\n`);
    return 0;
  }
  const holdout = Number(values.holdout);
  const l2 = Number(values.l2);
  const iterations = Number(values.iterations);
  if (
    positionals.length !== 1 ||
    !(holdout >= 0 && holdout < 1) ||
    !(l2 >= 0) ||
    !(iterations >= 1)
  ) {
    process.stderr.write(
      `undertone emotion fit: one CSV file and valid options are needed\n\n${EMOTION_USAGE}\n`,
    );
    return 2;
  }

  try {
    const csvPath = resolve(positionals[0]!);
    const { rows, features } = await readLabelledCsv(csvPath);
    if (rows.length < 4) throw new Error(`only ${rows.length} labelled rows in ${csvPath}`);
    const { train, test } = splitRows(rows, holdout);
    const fitted = trainSoftmax(train, { features, l2, iterations });
    const heldOut = test.length > 0 ? accuracy(new SoftmaxModel(fitted.file), test) : NaN;

    writeFileSync(values.out, `${JSON.stringify(fitted.file, null, 2)}\n`);
    process.stdout.write(
      `rows ${rows.length} (train ${train.length}, held out ${test.length}); labels ${fitted.file.labels.join(', ')}\n` +
        `train accuracy ${fitted.trainAccuracy.toFixed(3)}; held-out accuracy ${Number.isNaN(heldOut) ? 'n/a' : heldOut.toFixed(3)}\n` +
        `wrote ${values.out}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`undertone emotion fit: ${(err as Error).message}\n`);
    return 1;
  }
}

/** Reads either CSV form into labelled feature rows. */
export async function readLabelledCsv(
  path: string,
): Promise<{ rows: LabelledRow[]; features: FusionFeature[] }> {
  const lines = parseCsv(readFileSync(path, 'utf8'));
  const header = lines.shift()?.map((h) => h.trim());
  if (!header) throw new Error(`${path} is empty`);
  const labelAt = header.indexOf('label');
  if (labelAt < 0) throw new Error(`${path}: the header has no "label" column`);

  const label = (cells: string[], line: number): EmotionLabel => {
    const value = cells[labelAt]?.trim().toLowerCase() as EmotionLabel;
    if (!CLASS_LABELS.includes(value))
      throw new Error(`${path}:${line}: unknown label "${cells[labelAt]}"`);
    return value;
  };

  if (header.includes('wav')) {
    const wavAt = header.indexOf('wav');
    const textAt = header.indexOf('text');
    const rows: LabelledRow[] = [];
    for (const [i, cells] of lines.entries()) {
      const wav = resolve(dirname(path), cells[wavAt]!.trim());
      rows.push({
        features: await featuresOfFile(wav, textAt >= 0 ? (cells[textAt] ?? '') : ''),
        label: label(cells, i + 2),
      });
    }
    return { rows, features: [...FUSION_FEATURES] };
  }

  const unknown = header.filter(
    (h, i) => i !== labelAt && !(FUSION_FEATURES as readonly string[]).includes(h),
  );
  if (unknown.length > 0) throw new Error(`${path}: unknown columns ${unknown.join(', ')}`);
  const features = header.filter((_, i) => i !== labelAt) as FusionFeature[];
  if (features.length === 0) throw new Error(`${path}: no feature columns`);
  const rows = lines.map((cells, i): LabelledRow => {
    const row: Partial<Record<FusionFeature, number>> = {};
    for (const f of features) {
      const v = Number(cells[header.indexOf(f)]);
      if (!Number.isFinite(v)) throw new Error(`${path}:${i + 2}: ${f} is not a number`);
      row[f] = v;
    }
    return { features: row, label: label(cells, i + 2) };
  });
  return { rows, features };
}

/** RFC 4180-ish: commas, double-quoted fields with "" escapes, CRLF or LF; blank lines skipped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') ((field += '"'), i++);
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') (row.push(field), (field = ''));
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f.trim() !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f.trim() !== '')) rows.push(row);
  return rows;
}
