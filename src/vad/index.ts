/** Voice activity detection: Silero on the shared onnxruntime, batched across streams. */
export type { VadEngine, VadEvent, VadOptions, VadStream } from './types.js';
export { Segmenter, DEFAULT_VAD_OPTIONS, type SegmenterOptions } from './segmenter.js';
export {
  createSileroVadEngine,
  SileroVadEngine,
  SileroVadStream,
  type SileroVadEngineOptions,
} from './engines/silero-engine.js';
export { SileroModel, sileroModelPath, type SileroModelName } from './silero-model.js';
