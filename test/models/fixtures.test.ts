import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures, FIXTURES } from '../../src/models/fixtures/index.js';
import { FIXTURE_STAMP_FILE } from '../../src/models/fixtures/fixture-files.js';

const digest = (content: Uint8Array | string) => createHash('sha256').update(content).digest('hex');

describe('fixture generation', () => {
  let dir: string;
  let folders: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'undertone-fixtures-'));
    folders = await ensureFixtures(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates the small fixtures by default, not the benchmark-sized one', () => {
    expect(Object.keys(folders).sort()).toEqual([
      'llama-tiny-random',
      'mms-tts-tiny-random',
      'whisper-tiny-random',
    ]);
  });

  it('produces byte-identical files on every run', async () => {
    for (const def of FIXTURES.filter((f) => f.byDefault)) {
      const again = def.files();
      for (const file of again) {
        const onDisk = await readFile(join(folders[def.id]!, file.path));
        expect(digest(onDisk), `${def.id}/${file.path}`).toBe(digest(file.content));
      }
    }
  });

  it('skips folders already stamped by this generator version', async () => {
    const stampPath = join(folders['whisper-tiny-random']!, FIXTURE_STAMP_FILE);
    const before = (await stat(stampPath)).mtimeMs;
    await ensureFixtures(dir, ['whisper-tiny-random']);
    expect((await stat(stampPath)).mtimeMs).toBe(before);
  });

  it('rebuilds a folder whose stamp is missing', async () => {
    const folder = folders['mms-tts-tiny-random']!;
    await rm(join(folder, FIXTURE_STAMP_FILE));
    await ensureFixtures(dir, ['mms-tts-tiny-random']);
    expect(JSON.parse(await readFile(join(folder, FIXTURE_STAMP_FILE), 'utf8')).id).toBe(
      'mms-tts-tiny-random',
    );
  });

  it('declares the input and output names transformers.js feeds', async () => {
    const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };
    const decoder = await ort.InferenceSession.create(
      join(folders['whisper-tiny-random']!, 'onnx/decoder_model_merged.onnx'),
      opts,
    );
    expect(decoder.inputNames).toContain('use_cache_branch');
    expect(decoder.inputNames).toContain('past_key_values.1.encoder.value');
    expect(decoder.outputNames).toContain('present.1.decoder.key');
    const llama = await ort.InferenceSession.create(
      join(folders['llama-tiny-random']!, 'onnx/model.onnx'),
      opts,
    );
    expect(llama.inputNames.slice(0, 3)).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    expect(llama.outputNames).toContain('present.0.key');
    const vits = await ort.InferenceSession.create(
      join(folders['mms-tts-tiny-random']!, 'onnx/model.onnx'),
      opts,
    );
    expect(vits.outputNames).toEqual(['waveform']);
  });

  it('rejects an unknown fixture id', async () => {
    await expect(ensureFixtures(dir, ['no-such-model'])).rejects.toThrow(/unknown fixture/);
  });
});
