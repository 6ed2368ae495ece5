import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { emotionCommand, parseCsv } from '../../src/cli/emotion-command.js';
import { SoftmaxModel } from '../../src/emotion/softmax-model.js';
import { FIXTURE_DIR } from './emotion-test-helpers.js';

/** Seeded uniform numbers in [-2, 2]. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1664525 + 1013904223) % 2 ** 32;
    return (s / 2 ** 32) * 4 - 2;
  };
}

const rule = (energyZ: number, textValence: number) =>
  energyZ > 1 && textValence < 0 ? 'angry' : 'neutral';

let out = '';
beforeEach(() => {
  out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
});
afterEach(() => vi.restoreAllMocks());

describe('undertone emotion fit', () => {
  it('recovers a known rule from a labelled feature set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ut-fit-'));
    const next = rng(7);
    const lines = ['energyZ,textValence,f0Z,label'];
    for (let i = 0; i < 600; i++) {
      // Half the rows near the corner of the rule, so both classes are well represented.
      const e = i % 2 ? next() : 1 + next() / 2;
      const t = (i % 2 ? next() : next() / 4) / 2;
      lines.push(`${e.toFixed(4)},${t.toFixed(4)},${next().toFixed(4)},${rule(e, t)}`);
    }
    writeFileSync(join(dir, 'train.csv'), `${lines.join('\n')}\n`);
    const weights = join(dir, 'w.json');

    expect(
      await emotionCommand([
        'fit',
        join(dir, 'train.csv'),
        '--out',
        weights,
        '--iterations',
        '3000',
        '--l2',
        '0',
      ]),
    ).toBe(0);
    const heldOut = Number(/held-out accuracy ([\d.]+)/.exec(out)?.[1]);
    expect(heldOut).toBeGreaterThan(0.9);

    const model = SoftmaxModel.load(weights);
    const fresh = rng(99);
    let right = 0;
    for (let i = 0; i < 200; i++) {
      const e = fresh();
      const t = fresh() / 2;
      const p = model.probabilities({
        energyZ: e,
        textValence: t,
        f0Z: fresh(),
        rateZ: 0,
        voicedZ: 0,
        textEmphasis: 0,
      });
      if (model.labels[p.indexOf(Math.max(...p))] === rule(e, t)) right++;
    }
    expect(right / 200).toBeGreaterThan(0.9);
    // Deep inside each region the rule holds without exception.
    const clear = (e: number, t: number) => {
      const p = model.probabilities({
        energyZ: e,
        textValence: t,
        f0Z: 0,
        rateZ: 0,
        voicedZ: 0,
        textEmphasis: 0,
      });
      return model.labels[p.indexOf(Math.max(...p))];
    };
    expect(clear(2, -0.6)).toBe('angry');
    expect(clear(-1, -0.6)).toBe('neutral');
    expect(clear(2, 0.6)).toBe('neutral');
  });

  it('extracts features from a wav,text,label file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ut-fit-wav-'));
    const rows = ['wav,text,label'];
    const tsv = readFileSync(join(FIXTURE_DIR, 'transcripts.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    const labels: Record<string, string> = {
      neutral_calm: 'neutral',
      positive_happy: 'happy',
      negative_angry: 'angry',
      negative_sad: 'sad',
      negated_positive: 'neutral',
    };
    for (const line of tsv) {
      const [file, , text] = line.split('\t');
      copyFileSync(join(FIXTURE_DIR, file!), join(dir, file!));
      rows.push(`${file},"${text!.replace(/"/g, '""')}",${labels[file!.replace('.wav', '')]}`);
    }
    writeFileSync(join(dir, 'rec.csv'), rows.join('\n'));
    const weights = join(dir, 'w.json');
    expect(
      await emotionCommand(['fit', join(dir, 'rec.csv'), '--out', weights, '--holdout', '0']),
    ).toBe(0);
    expect(out).toMatch(/train accuracy 1\.000/);
    expect(SoftmaxModel.load(weights).features).toHaveLength(6);
  });

  it('refuses bad input with exit codes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ut-fit-bad-'));
    writeFileSync(join(dir, 'bad.csv'), 'loudness,label\n1,angry\n');
    expect(await emotionCommand(['fit', join(dir, 'bad.csv')])).toBe(1);
    expect(out).toMatch(/unknown columns loudness/);
    expect(await emotionCommand(['fit'])).toBe(2);
    expect(await emotionCommand(['frobnicate'])).toBe(2);
  });

  it('parses quoted CSV fields', () => {
    expect(parseCsv('a,b\r\n"x, ""y""",2\n\n')).toEqual([
      ['a', 'b'],
      ['x, "y"', '2'],
    ]);
  });
});
