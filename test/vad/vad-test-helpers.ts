/** Shared helpers of the VAD tests: read recordings, run a stream to the end, collect events. */
import { readFileSync } from 'node:fs';
import { parseWav } from '../../src/audio/wav.js';
import type { VadEvent, VadStream } from '../../src/vad/types.js';
import {
  SILERO_CONTEXT_SAMPLES,
  SILERO_INPUT_SAMPLES,
  SILERO_STATE_SIZE,
  SILERO_WINDOW_SAMPLES,
  type SileroModel,
} from '../../src/vad/silero-model.js';
import { sharedAudio } from '../helpers/shared-audio.js';

/** First channel of a shared WAV, with its rate. */
export function readShared(relative: string): { samples: Float32Array; sampleRateHz: number } {
  const wav = parseWav(readFileSync(sharedAudio(relative)));
  return { samples: wav.channels[0]!, sampleRateHz: wav.sampleRateHz };
}

/** A shared 16 kHz mono recording; throws if the file is at another rate. */
export function readShared16k(relative: string): Float32Array {
  const { samples, sampleRateHz } = readShared(relative);
  if (sampleRateHz !== 16_000) throw new Error(`${relative} is ${sampleRateHz} Hz`);
  return samples;
}

/** 8 kHz -> 16 kHz by linear interpolation (test-only; the project resampler is not ours). */
export function upsample2x(samples: Float32Array): Float32Array {
  const out = new Float32Array(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const a = samples[i]!;
    const b = samples[i + 1] ?? a;
    out[2 * i] = a;
    out[2 * i + 1] = (a + b) / 2;
  }
  return out;
}

export interface Segment {
  startMs: number;
  endMs: number;
  audio: Float32Array;
}

export interface StreamRun {
  events: VadEvent[];
  segments: Segment[];
  probabilities: number[];
}

/** Pushes `samples` in frames of `frameSamples` (default 320 = 20 ms), flushes, collects events. */
export async function runStream(
  stream: VadStream,
  samples: Float32Array,
  frameSamples = 320,
): Promise<StreamRun> {
  const events: VadEvent[] = [];
  const sub = stream.events.subscribe((e) => events.push(e));
  for (let at = 0; at < samples.length; at += frameSamples) {
    stream.push(samples.subarray(at, Math.min(at + frameSamples, samples.length)));
  }
  await stream.flush();
  sub.unsubscribe();
  return summarize(events);
}

export function summarize(events: VadEvent[]): StreamRun {
  const segments: Segment[] = [];
  const probabilities: number[] = [];
  for (const e of events) {
    if (e.type === 'speech-end') {
      segments.push({ startMs: e.startMs, endMs: e.endMs, audio: e.audio });
    }
    if (e.type === 'probability') probabilities.push(e.probability);
  }
  return { events, segments, probabilities };
}

/** Segment times in seconds, rounded to ms, for readable failure messages. */
export const spans = (segments: Segment[]): Array<[number, number]> =>
  segments.map((s) => [s.startMs / 1000, s.endMs / 1000]);

/** Speech spans of JFK per the MANIFEST, in seconds. */
export const JFK_SPEECH_S: Array<[number, number]> = [
  [0.32, 2.27],
  [3.27, 4.45],
  [5.38, 7.68],
  [8.16, 10.62],
];

/** Silero as it should run, and the two ways other ports have run it. */
export const AS_DESIGNED = { carryState: true, context: 'previous' } as const;
export const STATE_DROPPED = { carryState: false, context: 'previous' } as const;
export const NO_CONTEXT = { carryState: true, context: 'none' } as const;

export interface ReferenceOptions {
  /** Carry the recurrent state from window to window (what Silero needs). */
  carryState: boolean;
  /** 'previous': 64 samples of the previous window in front (576 wide); 'none': 512 wide. */
  context: 'previous' | 'none';
}

/**
 * Probabilities of whole 512-sample windows, straight through the model one window at a time:
 * the reference the streaming engine must match, and the variants it must not.
 */
export async function referenceProbabilities(
  model: SileroModel,
  samples: Float32Array,
  options: ReferenceOptions,
): Promise<number[]> {
  let state: Float32Array = new Float32Array(SILERO_STATE_SIZE);
  let previous: Float32Array = new Float32Array(SILERO_WINDOW_SAMPLES);
  const out: number[] = [];
  for (let at = 0; at + SILERO_WINDOW_SAMPLES <= samples.length; at += SILERO_WINDOW_SAMPLES) {
    const window = samples.subarray(at, at + SILERO_WINDOW_SAMPLES);
    let input: Float32Array;
    if (options.context === 'none') input = window.slice();
    else {
      input = new Float32Array(SILERO_INPUT_SAMPLES);
      input.set(previous.subarray(SILERO_WINDOW_SAMPLES - SILERO_CONTEXT_SAMPLES));
      input.set(window, SILERO_CONTEXT_SAMPLES);
    }
    previous = window;
    const result = await model.run([input], [state]);
    out.push(result.probabilities[0]!);
    if (options.carryState) state = result.states[0]!;
  }
  return out;
}

/** Share of windows that agree with JFK's MANIFEST (0.1 s margins left out). */
export function jfkAgreement(probabilities: number[]): number {
  let agree = 0;
  let counted = 0;
  probabilities.forEach((p, i) => {
    const t = (i * SILERO_WINDOW_SAMPLES + SILERO_WINDOW_SAMPLES / 2) / 16_000;
    const inSpeech = JFK_SPEECH_S.some(([a, b]) => t >= a + 0.1 && t <= b - 0.1);
    const outside = JFK_SPEECH_S.every(([a, b]) => t < a - 0.1 || t > b + 0.1);
    if (inSpeech || outside) counted++;
    if ((inSpeech && p >= 0.5) || (outside && p < 0.5)) agree++;
  });
  return agree / counted;
}
