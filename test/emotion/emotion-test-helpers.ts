/**
 * Helpers for emotion tests: the espeak-ng fixtures with their known text, run through the real
 * prosody tracker into a `TrackEmotion`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav } from '../../src/audio/wav.js';
import { silentLogger } from '../../src/log/logger.js';
import { ProsodyTracker } from '../../src/prosody/prosody-tracker.js';
import type { EmotionResult } from '../../src/pipeline/stage-ports.js';
import { defaultModel } from '../../src/emotion/fusion.js';
import {
  TrackEmotion,
  type TrackEmotionOptions,
} from '../../src/emotion/track-emotion-observer.js';

export const FIXTURE_DIR = join(import.meta.dirname, '../fixtures/emotion');

export interface EmotionFixture {
  name: string;
  text: string;
  samples: Float32Array;
}

/** The fixtures listed in transcripts.tsv, as 16 kHz floats. */
export function loadEmotionFixtures(): Map<string, EmotionFixture> {
  const rows = readFileSync(join(FIXTURE_DIR, 'transcripts.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  const out = new Map<string, EmotionFixture>();
  for (const row of rows) {
    const [file, , text] = row.split('\t');
    const wav = parseWav(readFileSync(join(FIXTURE_DIR, file!)));
    if (wav.sampleRateHz !== 16_000) throw new Error(`${file} is not 16 kHz`);
    const name = file!.replace(/\.wav$/, '');
    out.set(name, { name, text: text!, samples: wav.channels[0]! });
  }
  return out;
}

/**
 * Streams `samples` in 20 ms chunks through a prosody tracker into `observer` as one utterance
 * starting at `startMs`; partial text is revealed word by word; returns every result.
 */
export function runUtterance(
  observer: TrackEmotion,
  samples: Float32Array,
  text: string,
  segmentId = 's1',
  tracker = new ProsodyTracker(),
): EmotionResult[] {
  const results: EmotionResult[] = [];
  const sub = observer.results.subscribe((r) => results.push(r));
  const startMs = tracker.positionMs;
  const words = text.split(' ');
  observer.speechStarted(segmentId, startMs);
  for (let at = 0; at < samples.length; at += 320) {
    observer.prosody(tracker.push(samples.subarray(at, Math.min(samples.length, at + 320))));
    const shown = Math.floor((words.length * at) / samples.length);
    if (shown > 0) observer.partial(segmentId, words.slice(0, shown).join(' '));
  }
  observer.final(segmentId, text, startMs, tracker.positionMs);
  sub.unsubscribe();
  return results;
}

export function newObserver(options: Partial<TrackEmotionOptions> = {}): TrackEmotion {
  return new TrackEmotion({
    model: defaultModel(),
    updateIntervalMs: 400,
    log: silentLogger,
    ...options,
  });
}
