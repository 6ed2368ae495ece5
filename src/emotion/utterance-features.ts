/**
 * The fusion feature vector of a whole recorded utterance and its text, as the live observer
 * would compute it for a speaker heard for the first time (baseline = population prior). Used by
 * `undertone emotion fit` for `wav,text,label` training files.
 */
import { readAudioFile } from '../audio/read-audio-file.js';
import { resample } from '../audio/resampler.js';
import { ProsodyTracker } from '../prosody/prosody-tracker.js';
import { summarizeProsody } from '../prosody/segment-summary.js';
import { fusionFeatures } from './fusion.js';
import type { FusionFeature } from './softmax-model.js';
import { SpeakerBaseline, voiceValues } from './speaker-baseline.js';
import { textSentiment } from './text-sentiment.js';

/** Features of 16 kHz mono `samples` spoken as `text`. */
export function featuresOfSamples(
  samples: Float32Array,
  text: string,
): Record<FusionFeature, number> {
  const frames = new ProsodyTracker().push(samples);
  const summary = summarizeProsody(frames);
  const voice = new SpeakerBaseline().zScores(voiceValues(summary));
  const trimmed = text.trim();
  return fusionFeatures({
    voice,
    voicedMs: summary.voicedRatio * summary.durationMs,
    text: trimmed ? textSentiment(trimmed) : null,
  });
}

/** Features of an audio file (WAV or Ogg Opus; the first channel, resampled to 16 kHz). */
export async function featuresOfFile(
  path: string,
  text: string,
): Promise<Record<FusionFeature, number>> {
  const audio = await readAudioFile(path, { opusRateHz: 16000 });
  const mono = audio.channels[0] ?? new Float32Array(0);
  const samples = audio.sampleRateHz === 16_000 ? mono : resample(mono, audio.sampleRateHz, 16_000);
  return featuresOfSamples(samples, text);
}
