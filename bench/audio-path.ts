/**
 * CPU per stream-second of the always-on audio path before VAD: decode, resample to 16 kHz and
 * prosody, per input format, run as fast as possible (unpaced) in 20 ms frames. Numbers are CPU
 * time of this process (user + system), the best of a few runs, in ms per second of audio.
 */
import { createAgentAudioEncoder } from '../src/audio/agent-audio-encoder.js';
import { AudioInput } from '../src/audio/audio-input.js';
import type { AudioFormat } from '../src/protocol/messages.js';
import { ProsodyTracker } from '../src/prosody/prosody-tracker.js';

const SECONDS = 10;
const RUNS = 3;

/** A voice-like test signal: a gliding harmonic series in syllable-rate bursts, plus noise. */
function syntheticSpeech(rateHz: number): Float32Array {
  let seed = 1;
  let phase = 0;
  return Float32Array.from({ length: rateHz * SECONDS }, (_, i) => {
    const t = i / rateHz;
    phase += (2 * Math.PI * (140 + 40 * Math.sin(2 * Math.PI * 0.7 * t))) / rateHz;
    const envelope = Math.max(0, Math.sin(2 * Math.PI * 2.5 * t)) ** 2;
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const noise = (seed / 2 ** 32 - 0.5) * 0.01;
    let voice = 0;
    for (let h = 1; h <= 6; h++) voice += Math.sin(h * phase) / h;
    return 0.25 * envelope * voice + noise;
  });
}

function encodeFrames(codec: AudioFormat['codec'], rateHz: number): Uint8Array[] {
  const encoder = createAgentAudioEncoder({ codec, sampleRateHz: rateHz, frameMs: 20 });
  const frames = encoder.push(syntheticSpeech(rateHz), rateHz).concat(encoder.flush());
  return frames.map((f) => f.payload);
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Best-of-RUNS CPU ms per stream-second of `work`. */
function measure(work: () => void): number {
  work(); // warm-up: JIT and lazily built tables
  let best = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const start = cpuMs();
    work();
    best = Math.min(best, (cpuMs() - start) / SECONDS);
  }
  return Number(best.toFixed(3));
}

function pathCost(format: AudioFormat, frames: Uint8Array[], withProsody: boolean): number {
  return measure(() => {
    const input = new AudioInput(format);
    const prosody = new ProsodyTracker();
    frames.forEach((frame, seq) => {
      const { tracks } = input.push(frame, { seq });
      if (withProsody) prosody.push(tracks[0]!);
    });
  });
}

export async function benchAudioPath(): Promise<Record<string, number>> {
  const opus: AudioFormat = { codec: 'opus', sampleRateHz: 48000, channels: 1, frameMs: 20 };
  const pcm16: AudioFormat = { codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20 };
  const pcm48: AudioFormat = { codec: 'pcm16', sampleRateHz: 48000, channels: 1, frameMs: 20 };
  const mulaw: AudioFormat = { codec: 'mulaw', sampleRateHz: 8000, channels: 1, frameMs: 20 };
  const opusFrames = encodeFrames('opus', 48000);
  const pcm16Frames = encodeFrames('pcm16', 16000);
  const pcm48Frames = encodeFrames('pcm16', 48000);
  const mulawFrames = encodeFrames('mulaw', 8000);

  const speech16k = syntheticSpeech(16000);
  const prosodyOnly = measure(() => {
    const tracker = new ProsodyTracker();
    for (let at = 0; at < speech16k.length; at += 320)
      tracker.push(speech16k.subarray(at, at + 320));
  });

  return {
    opus48k_decode_ms_per_s: pathCost(opus, opusFrames, false),
    opus48k_total_ms_per_s: pathCost(opus, opusFrames, true),
    pcm16_16k_decode_ms_per_s: pathCost(pcm16, pcm16Frames, false),
    pcm16_16k_total_ms_per_s: pathCost(pcm16, pcm16Frames, true),
    pcm16_48k_decode_resample_ms_per_s: pathCost(pcm48, pcm48Frames, false),
    mulaw_8k_decode_resample_ms_per_s: pathCost(mulaw, mulawFrames, false),
    mulaw_8k_total_ms_per_s: pathCost(mulaw, mulawFrames, true),
    prosody_only_ms_per_s: prosodyOnly,
  };
}
