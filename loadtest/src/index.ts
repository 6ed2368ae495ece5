/**
 * `@undertone/loadtest`: simulated callers for an Undertone server on loopback, speaking the public
 * protocol only. The command line is `cli.ts`; these are the pieces for tests and benchmarks.
 */
export { runCaller, type CallerOptions } from './caller.js';
export { runChurn, type ChurnOptions, type ChurnReport } from './churn.js';
export {
  runDisconnectStorm,
  type DisconnectStormOptions,
  type DisconnectStormReport,
} from './disconnect-storm.js';
export {
  codecSetup,
  defaultRecordingsDir,
  loadSpeech,
  type CodecSetup,
  type SpeechSet,
  type Utterance,
} from './recordings.js';
export { findKnee, formatLevel, renderHtml, unobservedHistograms, type Knee } from './report.js';
export { runLoadLevel, type LoadLevelOptions, type LoadLevelReport } from './run-load.js';
export {
  RunMetrics,
  TURN_METRICS,
  type RunMetricsSnapshot,
  type TurnMetric,
} from './run-metrics.js';
export {
  ProcessSampler,
  projectRoot,
  readProc,
  spawnServer,
  type SampleSource,
  type SpawnedServer,
} from './server-process.js';
export { resolveTarget, TargetError, type Target } from './target.js';
