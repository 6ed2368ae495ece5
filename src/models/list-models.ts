/**
 * What the manifest offers and what is on disk: one row per model and fixture.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { UndertoneConfig } from '../config/schema.js';
import { isFixtureCurrent } from './fixtures/index.js';
import { loadManifest, type ModelFormat, type ModelPurpose } from './manifest.js';
import { isModelPresent, modelPathIn } from './resolve-model.js';

export interface ModelListing {
  id: string;
  purpose: ModelPurpose;
  format: ModelFormat;
  /** `hub` (pulled), `bundled` (ships in an npm package) or `fixture` (generated). */
  origin: 'hub' | 'bundled' | 'fixture';
  /** A default of the manifest (for real models) or of `--models fixtures`. */
  isDefault: boolean;
  present: boolean;
  path: string;
  license?: string;
  repo?: string;
}

/** Every manifest model and fixture with whether it is present under the configured folders. */
export async function listModels(cfg: UndertoneConfig): Promise<ModelListing[]> {
  const manifest = loadManifest();
  const dir =
    cfg.models.source === 'default' || cfg.models.source === 'fixtures'
      ? cfg.models.dir
      : cfg.models.source;
  const defaults = new Set(Object.values(manifest.defaults));
  const fixtureDefaults = new Set(Object.values(manifest.fixtureDefaults));
  const rows: ModelListing[] = manifest.models.map((m) => ({
    id: m.id,
    purpose: m.purpose,
    format: m.format,
    origin: m.bundled ? 'bundled' : 'hub',
    isDefault: defaults.has(m.id),
    present: isModelPresent(dir, m),
    path: m.bundled ? m.bundled : modelPathIn(dir, m),
    license: m.license,
    repo: m.repo,
  }));
  for (const f of manifest.fixtures) {
    const path = join(resolve(cfg.models.fixturesDir), f.id);
    rows.push({
      id: f.id,
      purpose: f.purpose,
      format: f.format,
      origin: 'fixture',
      isDefault: fixtureDefaults.has(f.id),
      present: existsSync(path) && (await isFixtureCurrent(path)),
      path,
    });
  }
  return rows;
}
