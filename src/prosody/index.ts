export {
  FrameAnalyzer,
  resolveProsodyOptions,
  ENERGY_FLOOR_DB,
  type ProsodyOptions,
} from './frame-features.js';
export { ProsodyTracker, type ProsodyTrackerOptions } from './prosody-tracker.js';
export { summarizeProsody, countEnergyPeaks } from './segment-summary.js';
export { YinPitchDetector, type PitchEstimate, type YinOptions } from './yin-pitch.js';
export type { ProsodyFrame, ProsodySegment } from './types.js';
