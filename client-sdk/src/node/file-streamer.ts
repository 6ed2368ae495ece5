/**
 * Streams decoded audio (a WAV file, or PCM the caller decoded) through a client as a caller would:
 * 20 ms frames, encoded (Opus by default), paced by the wall clock so the server sees real time.
 * `speed` > 1 sends faster (tests); the capture clock then runs at that speed too.
 */
import {
  SAMPLE_RATES_HZ,
  type AudioFormat,
  type SampleRateHz,
} from '../../../src/protocol/index.js';
import { interleave, resample, samplesPerFrame } from '../pcm.js';
import type { UndertoneClient } from '../undertone-client.js';
import { createFrameEncoder } from './opus-codec.js';
import type { DecodedAudio } from './wav-file.js';

export interface PreparedAudio {
  /** The `audio` field for `session.start`. */
  format: AudioFormat;
  /** Channels at `format.sampleRateHz`. */
  channels: Float32Array[];
  durationMs: number;
}

/**
 * Picks the wire format for some audio and resamples it when needed: a rate the protocol allows is
 * kept (Opus runs at all of them), any other becomes 48 kHz for Opus or 16 kHz for PCM16.
 */
export function prepareAudio(
  audio: DecodedAudio,
  codec: 'opus' | 'pcm16' = 'opus',
  frameMs = 20,
): PreparedAudio {
  const allowed = (SAMPLE_RATES_HZ as readonly number[]).includes(audio.sampleRateHz);
  const rate = (allowed ? audio.sampleRateHz : codec === 'opus' ? 48_000 : 16_000) as SampleRateHz;
  const channels = audio.channels.slice(0, 2).map((ch) => resample(ch, audio.sampleRateHz, rate));
  const count = channels.length === 2 ? 2 : 1;
  return {
    format: { codec, sampleRateHz: rate, channels: count, frameMs },
    channels,
    durationMs: ((channels[0]?.length ?? 0) / rate) * 1000,
  };
}

export interface StreamAudioOptions {
  /** 1 = real time (default); 10 = ten times faster. */
  speed?: number;
  /** Silence appended after the audio so the server's VAD can close the last segment, in ms. */
  tailSilenceMs?: number;
  signal?: AbortSignal;
}

export interface StreamResult {
  frames: number;
  /** Audio sent, tail silence included, in ms. */
  audioMs: number;
}

/** Encodes and sends `audio` through `client` (already started with `audio.format`). */
export async function streamAudio(
  client: UndertoneClient,
  audio: PreparedAudio,
  options: StreamAudioOptions = {},
): Promise<StreamResult> {
  const { format } = audio;
  const speed = options.speed ?? 1;
  const encoder = createFrameEncoder({
    codec: format.codec,
    sampleRateHz: format.sampleRateHz,
    channels: format.channels,
  });
  const perFrame = samplesPerFrame(format.sampleRateHz, format.frameMs);
  const tailSamples = Math.round(((options.tailSilenceMs ?? 0) * format.sampleRateHz) / 1000);
  const total = (audio.channels[0]?.length ?? 0) + tailSamples;
  const frames = Math.ceil(total / perFrame);
  const startMs = client.now();

  for (let i = 0; i < frames; i++) {
    if (options.signal?.aborted) return { frames: i, audioMs: i * format.frameMs };

    const dueMs = startMs + (i * format.frameMs) / speed;
    const waitMs = dueMs - client.now();
    if (waitMs > 1) await sleep(waitMs);

    const slices = audio.channels.map((ch) => {
      const frame = new Float32Array(perFrame);
      const from = i * perFrame;
      if (from < ch.length) frame.set(ch.subarray(from, Math.min(from + perFrame, ch.length)));
      return frame;
    });
    client.sendAudio(encoder.encode(interleave(slices)), {
      durationMs: format.frameMs,
      captureTimeMs: dueMs,
    });
  }
  return { frames, audioMs: frames * format.frameMs };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
