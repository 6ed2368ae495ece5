/**
 * The whole always-on path of a session, as the server runs it for every frame: Opus decode
 * (48 kHz stream, 20 ms packets) to 16 kHz, Silero VAD (shared engine) and prosody. Reports
 * process CPU ms per stream-second and streams per core, with batched and unbatched VAD, paced
 * (one 20 ms packet per stream every 20 ms of wall time, as live calls arrive) and as fast as
 * possible. Paced is the number that sizes a server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Encoder } from '@evan/opus';
import { AudioInput } from '../src/audio/audio-input.js';
import { resample } from '../src/audio/resampler.js';
import { parseWav } from '../src/audio/wav.js';
import { ProsodyTracker } from '../src/prosody/prosody-tracker.js';
import { createSileroVadEngine, type SileroVadEngine } from '../src/vad/engines/silero-engine.js';
import type { VadStream } from '../src/vad/types.js';

const FRAME_MS = 20;

interface Stream {
  input: AudioInput;
  vad: VadStream;
  prosody: ProsodyTracker;
  next: number;
  seq: number;
}

/** Opus packets (48 kHz mono, 20 ms) of the committed speech fixture, looped as needed. */
function loadPackets(): Uint8Array[] {
  const wav = parseWav(readFileSync(join('test', 'fixtures', 'speech', 'hello_weather.16k.wav')));
  const pcm48 = resample(wav.channels[0]!, wav.sampleRateHz, 48_000);
  const encoder = new Encoder({ channels: 1, sample_rate: 48_000, application: 'voip' });
  const packets: Uint8Array[] = [];
  const frame = (48_000 * FRAME_MS) / 1000;
  for (let at = 0; at + frame <= pcm48.length; at += frame) {
    const int16 = new Int16Array(frame);
    for (let i = 0; i < frame; i++)
      int16[i] = Math.max(-32768, Math.min(32767, Math.round(pcm48[at + i]! * 32767)));
    packets.push(encoder.encode(new Uint8Array(int16.buffer)).slice());
  }
  return packets;
}

function openStreams(engine: SileroVadEngine, count: number): Stream[] {
  return Array.from({ length: count }, (_, i) => {
    const vad = engine.createStream();
    vad.events.subscribe();
    return {
      input: new AudioInput({
        codec: 'opus',
        sampleRateHz: 48_000,
        channels: 1,
        frameMs: FRAME_MS,
      }),
      vad,
      prosody: new ProsodyTracker(),
      next: (i * 7) % 50,
      seq: 0,
    };
  });
}

function feed(stream: Stream, packets: Uint8Array[]): void {
  const packet = packets[stream.next++ % packets.length]!;
  const { tracks } = stream.input.push(packet, { seq: stream.seq++ });
  const samples = tracks[0];
  if (!samples || samples.length === 0) return;
  stream.vad.push(samples);
  stream.prosody.push(samples);
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function runPaced(
  engine: SileroVadEngine,
  count: number,
  packets: Uint8Array[],
  wallMs: number,
) {
  const streams = openStreams(engine, count);
  const ticks = Math.round(wallMs / FRAME_MS);
  const startCpu = cpuMs();
  const startWall = performance.now();
  let late = 0;
  for (let t = 0; t < ticks; t++) {
    const due = startWall + t * FRAME_MS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else if (wait < -FRAME_MS) late++;
    for (const s of streams) feed(s, packets);
  }
  await Promise.all(streams.map((s) => s.vad.flush()));
  const used = cpuMs() - startCpu;
  streams.forEach((s) => s.vad.close());
  return {
    cpuMsPerStreamS: used / ((count * ticks * FRAME_MS) / 1000),
    lateTickRatio: late / ticks,
  };
}

async function runFast(
  engine: SileroVadEngine,
  count: number,
  packets: Uint8Array[],
  audioMs: number,
) {
  const streams = openStreams(engine, count);
  const ticks = Math.round(audioMs / FRAME_MS);
  const startCpu = cpuMs();
  for (let t = 0; t < ticks; t++) {
    for (const s of streams) feed(s, packets);
    if (t % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  await Promise.all(streams.map((s) => s.vad.flush()));
  const used = cpuMs() - startCpu;
  streams.forEach((s) => s.vad.close());
  return used / ((count * ticks * FRAME_MS) / 1000);
}

export async function benchAlwaysOn(
  opts: { quick?: boolean } = {},
): Promise<Record<string, number>> {
  const packets = loadPackets();
  const counts = opts.quick ? [1, 32] : [1, 32, 128, 200];
  const pacedMs = opts.quick ? 2000 : 4000;
  const out: Record<string, number> = {};
  for (const batch of [true, false]) {
    const mode = batch ? 'batched' : 'unbatched';
    const engine = await createSileroVadEngine({ model: 'silero-v5', batch, maxBatch: 64 });
    await runFast(engine, 1, packets, 1000);
    for (const count of counts) {
      const fast = await runFast(engine, count, packets, count >= 128 ? 2000 : 6000);
      out[`fast_${mode}_${count}_cpuMsPerStreamS`] = round(fast);
      const paced = await runPaced(engine, count, packets, pacedMs);
      out[`paced_${mode}_${count}_cpuMsPerStreamS`] = round(paced.cpuMsPerStreamS);
      out[`paced_${mode}_${count}_streamsPerCore`] = Math.round(1000 / paced.cpuMsPerStreamS);
      out[`paced_${mode}_${count}_lateTickRatio`] = round(paced.lateTickRatio);
    }
    await engine.close();
  }
  return out;
}

const round = (v: number): number => Math.round(v * 100) / 100;
