/**
 * Model management: the manifest, resolving configured models to local paths, pulling them from
 * the hub, and the generated offline fixture models.
 */
export {
  ensureFixtures,
  defaultFixturesDir,
  FIXTURES,
  isFixtureCurrent,
} from './fixtures/index.js';
export { listModels, type ModelListing } from './list-models.js';
export {
  loadManifest,
  findManifestModel,
  hubFileUrl,
  type ManifestModel,
  type ModelManifest,
} from './manifest.js';
export { createProgressBar, formatProgress } from './progress-bar.js';
export { projectRoot } from './project-root.js';
export { pullModel, type PullOptions, type PullProgress } from './pull-model.js';
export {
  resolveModel,
  resolveModelInfo,
  isModelPresent,
  type ModelKind,
  type ResolvedModel,
} from './resolve-model.js';
