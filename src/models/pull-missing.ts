/**
 * The models a plain `undertone serve` needs and does not have yet. On a machine with network the
 * server pulls them (with a progress bar) before it loads anything; offline the first download
 * fails within seconds with `UT_ERR_MODEL_DOWNLOAD`, whose message points to `--models fixtures`.
 */
import type { UndertoneConfig } from '../config/schema.js';
import { findManifestModel, type ManifestModel } from './manifest.js';
import { pullModel, type PullProgress } from './pull-model.js';
import { isModelPresent, type ModelKind } from './resolve-model.js';

/** Manifest models named by the configuration for `kinds` that are absent from `models.dir`. */
export function missingManifestModels(cfg: UndertoneConfig, kinds: ModelKind[]): ManifestModel[] {
  if (cfg.models.source !== 'default') return [];
  const missing: ManifestModel[] = [];
  for (const kind of kinds) {
    const model = findManifestModel(cfg[kind].model);
    if (model && !isModelPresent(cfg.models.dir, model) && !missing.includes(model)) {
      missing.push(model);
    }
  }
  return missing;
}

/**
 * Downloads every missing model of `kinds` into `models.dir`, one after the other.
 * @returns the ids pulled.
 * @throws UndertoneError `UT_ERR_MODEL_DOWNLOAD` when the hub cannot be reached (fast, no hang).
 */
export async function pullMissingModels(
  cfg: UndertoneConfig,
  kinds: ModelKind[],
  onProgress?: (progress: PullProgress) => void,
): Promise<string[]> {
  const pulled: string[] = [];
  for (const model of missingManifestModels(cfg, kinds)) {
    await pullModel(model.id, {
      dir: cfg.models.dir,
      fixturesDir: cfg.models.fixturesDir,
      baseUrl: cfg.models.hubUrl,
      onProgress,
    });
    pulled.push(model.id);
  }
  return pulled;
}
