import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import type { UndertoneError } from '../../src/errors/undertone-error.js';
import { listModels } from '../../src/models/list-models.js';
import { findManifestModel, loadManifest } from '../../src/models/manifest.js';
import { resolveModel, resolveModelInfo } from '../../src/models/resolve-model.js';

const config = (overrides: Record<string, string>) => loadConfig({ env: {}, overrides });

async function rejection(promise: Promise<unknown>): Promise<UndertoneError> {
  try {
    await promise;
  } catch (err) {
    return err as UndertoneError;
  }
  throw new Error('expected a rejection');
}

describe('resolveModel', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'undertone-models-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the missing model and the command that gets it', async () => {
    const err = await rejection(resolveModel('asr', config({ 'models.dir': dir })));
    expect(err.code).toBe('UT_ERR_MODEL_MISSING');
    expect(err.message).toContain('whisper-base.en');
    expect(err.message).toContain('`undertone models pull whisper-base.en`');
    expect(err.message).toContain('`undertone serve --models fixtures`');
  });

  it('finds a pulled model in models.dir, and the GGUF file for llama.cpp models', async () => {
    const tts = findManifestModel('mms-tts-eng')!;
    for (const file of tts.files) {
      await mkdir(join(dir, tts.id, file, '..'), { recursive: true });
      await writeFile(join(dir, tts.id, file), 'x');
    }
    expect(await resolveModel('tts', config({ 'models.dir': dir }))).toBe(join(dir, 'mms-tts-eng'));

    const gguf = findManifestModel(loadManifest().defaults.llm)!;
    await mkdir(join(dir, gguf.id), { recursive: true });
    await writeFile(join(dir, gguf.id, gguf.files[0]!), 'x');
    const info = await resolveModelInfo('llm', config({ 'models.dir': dir }));
    expect(info).toMatchObject({
      format: 'gguf',
      path: join(dir, gguf.id, gguf.files[0]!),
      fixture: false,
    });
  });

  it('treats a half-downloaded file as missing', async () => {
    const tts = findManifestModel('mms-tts-eng')!;
    await writeFile(join(dir, tts.id, 'onnx/model.onnx.partial'), 'x');
    const err = await rejection(resolveModel('tts', config({ 'models.dir': dir })));
    expect(err.code).toBe('UT_ERR_MODEL_MISSING');
    await rm(join(dir, tts.id, 'onnx/model.onnx.partial'));
  });

  it('generates and returns the fixture models with models.source = fixtures', async () => {
    const cfg = config({
      'models.source': 'fixtures',
      'models.fixturesDir': join(dir, 'fixtures'),
    });
    const info = await resolveModelInfo('asr', cfg);
    expect(info).toMatchObject({
      id: 'whisper-tiny-random',
      fixture: true,
      path: join(dir, 'fixtures', 'whisper-tiny-random'),
    });
    expect(await resolveModel('tts', cfg)).toBe(join(dir, 'fixtures', 'mms-tts-tiny-random'));
  });

  it('accepts a folder path as the model and reports a missing one', async () => {
    const folder = join(dir, 'fixtures', 'mms-tts-tiny-random');
    expect(await resolveModel('tts', config({ 'models.dir': dir, 'tts.model': folder }))).toBe(
      folder,
    );
    const err = await rejection(
      resolveModel('llm', config({ 'llm.model': join(dir, 'nope.gguf') })),
    );
    expect(err.code).toBe('UT_ERR_MODEL_MISSING');
  });

  it('rejects a name that is neither in the manifest nor a path', async () => {
    const err = await rejection(resolveModel('asr', config({ 'asr.model': 'whisper-huge' })));
    expect(err.code).toBe('UT_ERR_UNKNOWN_MODEL');
  });

  it('lists every manifest model and fixture with its presence', async () => {
    const rows = await listModels(
      config({ 'models.dir': dir, 'models.fixturesDir': join(dir, 'fixtures') }),
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get('mms-tts-eng')).toMatchObject({
      present: true,
      isDefault: true,
      origin: 'hub',
    });
    expect(byId.get('whisper-base.en')).toMatchObject({ present: false, isDefault: true });
    expect(byId.get('whisper-tiny-random')).toMatchObject({ present: true, origin: 'fixture' });
    expect(byId.get('whisper-tiny-dims-random')).toMatchObject({ present: false });
    expect(byId.get('silero-vad-v5')).toMatchObject({ present: true, origin: 'bundled' });
  });
});
