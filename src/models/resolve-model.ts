/**
 * Turns the configured model of a stage (`asr.model`, `llm.model`, `tts.model`) and
 * `models.source` into a local folder or file, or a coded error that says what is missing and the
 * exact command that gets it.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { UndertoneConfig } from '../config/schema.js';
import { UndertoneError } from '../errors/undertone-error.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import { ensureFixtures } from './fixtures/index.js';
import {
  findManifestFixture,
  findManifestModel,
  loadManifest,
  type ManifestModel,
  type ModelFormat,
} from './manifest.js';
import { projectRoot } from './project-root.js';

export type ModelKind = 'asr' | 'llm' | 'tts';

export interface ResolvedModel {
  kind: ModelKind;
  /** Manifest or fixture id; the path itself for a model given as a path. */
  id: string;
  /** Folder (transformers.js layouts) or file (GGUF). Absolute. */
  path: string;
  format: ModelFormat;
  /** transformers.js dtype the files are for, when the manifest says. */
  dtype?: string;
  /** True for the generated random-weight fixtures. */
  fixture: boolean;
}

const KIND_LABEL: Record<ModelKind, string> = { asr: 'ASR', llm: 'LLM', tts: 'TTS' };

function configuredModel(kind: ModelKind, cfg: UndertoneConfig): string {
  return cfg[kind].model;
}

function looksLikePath(name: string): boolean {
  return (
    isAbsolute(name) ||
    name.startsWith('./') ||
    name.startsWith('../') ||
    name.endsWith('.gguf') ||
    name.includes('/')
  );
}

/** Folders in the config are relative to the working directory, like every CLI path. */
function absolute(path: string): string {
  return resolve(process.cwd(), path);
}

/** The path of a manifest model inside a models folder: the folder, or the file for GGUF. */
export function modelPathIn(dir: string, model: ManifestModel): string {
  const folder = join(absolute(dir), model.id);
  return model.format === 'gguf' ? join(folder, model.files[0]!) : folder;
}

/** True when every file of the model is in `dir/<id>/` and none is half downloaded. */
export function isModelPresent(dir: string, model: ManifestModel): boolean {
  if (model.bundled) return existsSync(join(projectRoot(), 'node_modules', model.bundled));
  const folder = join(absolute(dir), model.id);
  return model.files.every(
    (f) => existsSync(join(folder, f)) && !existsSync(join(folder, `${f}.partial`)),
  );
}

function missing(kind: ModelKind, id: string, where: string, how: string): UndertoneError {
  return new UndertoneError(
    ERROR_CODES.modelMissing,
    `${KIND_LABEL[kind]} model "${id}" is missing (looked in ${where}). ${how}`,
    { category: 'upstream', recoverable: false },
  );
}

const OFFLINE_HINT =
  'To run offline with the generated test models, use `undertone serve --models fixtures`.';

/**
 * Resolves the configured model of `kind` to a local path, with details. With
 * `models.source = 'fixtures'` the fixture is generated on first use.
 * @throws UndertoneError `UT_ERR_MODEL_MISSING` naming the model and the command that gets it.
 */
export async function resolveModelInfo(
  kind: ModelKind,
  cfg: UndertoneConfig,
): Promise<ResolvedModel> {
  const manifest = loadManifest();
  const name = configuredModel(kind, cfg);
  const source = cfg.models.source;

  if (source === 'fixtures' || findManifestFixture(name)) {
    const fixtureId = findManifestFixture(name) ? name : manifest.fixtureDefaults[kind];
    const folders = await ensureFixtures(absolute(cfg.models.fixturesDir), [fixtureId]);
    return {
      kind,
      id: fixtureId,
      path: folders[fixtureId]!,
      format: 'transformers.js',
      fixture: true,
    };
  }

  if (!findManifestModel(name) && looksLikePath(name)) {
    const path = absolute(name);
    if (!existsSync(path)) {
      throw missing(
        kind,
        name,
        path,
        `Set ${kind}.model to an existing folder or file, or to a manifest name (\`undertone models list\`).`,
      );
    }
    return {
      kind,
      id: name,
      path,
      format: path.endsWith('.gguf') ? 'gguf' : 'transformers.js',
      fixture: false,
    };
  }

  const model = findManifestModel(name);
  if (!model) {
    const known = manifest.models.filter((m) => m.purpose === kind).map((m) => m.id);
    throw new UndertoneError(
      ERROR_CODES.unknownModel,
      `${KIND_LABEL[kind]} model "${name}" is not in models/manifest.json (known: ${known.join(', ')}) and is not a path.`,
      { category: 'bad-input', recoverable: false },
    );
  }
  const dir = source === 'default' ? cfg.models.dir : source;
  const path = modelPathIn(dir, model);
  if (!isModelPresent(dir, model)) {
    const pull =
      source === 'default'
        ? `undertone models pull ${model.id}`
        : `undertone models pull ${model.id} --dir ${dir}`;
    throw missing(
      kind,
      model.id,
      join(absolute(dir), model.id),
      `Get it with \`${pull}\`. ${OFFLINE_HINT}`,
    );
  }
  return { kind, id: model.id, path, format: model.format, dtype: model.dtype, fixture: false };
}

/**
 * The local folder (transformers.js layouts) or file (GGUF) of the configured model of `kind`.
 * @throws UndertoneError `UT_ERR_MODEL_MISSING` with `undertone models pull <id>` in the message.
 */
export async function resolveModel(kind: ModelKind, cfg: UndertoneConfig): Promise<string> {
  return (await resolveModelInfo(kind, cfg)).path;
}

/** Project-relative default folders, for messages and the CLI. */
export function defaultModelsDir(): string {
  return join(projectRoot(), 'models', 'cache');
}
