/**
 * The model manifest (`models/manifest.json`): every model Undertone knows, where it comes from
 * on the Hugging Face hub, which files it needs, its license, and which ones are the defaults.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './project-root.js';

export type ModelPurpose = 'asr' | 'llm' | 'tts' | 'vad';
export type ModelFormat = 'transformers.js' | 'gguf' | 'onnx';

export interface ManifestModel {
  id: string;
  purpose: ModelPurpose;
  format: ModelFormat;
  /** Hub repository, e.g. `onnx-community/whisper-base.en`; absent for bundled models. */
  repo?: string;
  revision?: string;
  dtype?: string;
  /** Paths inside the repository (and inside the local model folder). */
  files: string[];
  license: string;
  /** npm-package-relative path of a model shipped with a dependency. */
  bundled?: string;
  notes?: string;
}

export interface ManifestFixture {
  id: string;
  purpose: Exclude<ModelPurpose, 'vad'>;
  format: ModelFormat;
  notes?: string;
}

export interface ModelManifest {
  version: number;
  hubBaseUrl: string;
  defaults: Record<ModelPurpose, string>;
  fixtureDefaults: Record<Exclude<ModelPurpose, 'vad'>, string>;
  models: ManifestModel[];
  fixtures: ManifestFixture[];
}

let cached: ModelManifest | undefined;

/** Path of the manifest file in the project. */
export function manifestPath(): string {
  return join(projectRoot(), 'models', 'manifest.json');
}

/** Reads and caches `models/manifest.json`. */
export function loadManifest(): ModelManifest {
  cached ??= JSON.parse(readFileSync(manifestPath(), 'utf8')) as ModelManifest;
  return cached;
}

export function findManifestModel(
  id: string,
  manifest: ModelManifest = loadManifest(),
): ManifestModel | undefined {
  return manifest.models.find((m) => m.id === id);
}

export function findManifestFixture(
  id: string,
  manifest: ModelManifest = loadManifest(),
): ManifestFixture | undefined {
  return manifest.fixtures.find((f) => f.id === id);
}

/** The hub URL of one file: `<base>/<repo>/resolve/<revision>/<file>`. */
export function hubFileUrl(model: ManifestModel, file: string, baseUrl?: string): string {
  if (!model.repo) throw new Error(`model ${model.id} has no hub repository`);
  const base = (baseUrl ?? loadManifest().hubBaseUrl).replace(/\/+$/, '');
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${base}/${model.repo}/resolve/${encodeURIComponent(model.revision ?? 'main')}/${path}`;
}
