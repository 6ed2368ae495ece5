import type { StartOptions } from '../src/undertone-client.js';

/** An agent session on 16 kHz mono PCM16 in 20 ms frames. */
export const PCM16_START: StartOptions = {
  mode: 'agent',
  audio: { codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20 },
};

/** Polls `check` every 5 ms, at most 1000 times; throws naming `what` if it never holds. */
export const until = async (check: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error(`never happened: ${what}`);
};
