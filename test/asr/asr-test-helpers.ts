/**
 * Shared setup of the ASR tests: the generated random-weight Whisper fixture, recordings from
 * `../shared/audio` as 16 kHz mono, and a scheduler over a real local engine.
 */
import { readFileSync } from 'node:fs';
import { concatSamples } from '../../src/audio/channel-mix.js';
import { parseWav } from '../../src/audio/wav.js';
import { ensureFixtures } from '../../src/models/fixtures/index.js';
import { sharedAudio } from '../helpers/shared-audio.js';

/** Folder of the `whisper-tiny-random` fixture, generated on first use. */
export async function whisperFixtureDir(): Promise<string> {
  const folders = await ensureFixtures(undefined, ['whisper-tiny-random']);
  return folders['whisper-tiny-random']!;
}

/** First channel of a shared 16 kHz recording. */
export function readShared16k(relative: string): Float32Array {
  const wav = parseWav(readFileSync(sharedAudio(relative)));
  if (wav.sampleRateHz !== 16_000) throw new Error(`${relative} is not 16 kHz`);
  return wav.channels[0]!;
}

/** Joins recordings into one buffer. */
export const joinAudio = concatSamples;
