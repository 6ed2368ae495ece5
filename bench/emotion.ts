/**
 * Emotion stage cost, in CPU ms per stream-second: `fusion_*` is the observer alone (prosody
 * frames precomputed: segment summaries, baseline z-scores, text sentiment of the partials,
 * softmax; updates every 400 ms and a final per utterance); `prosodyFusion_*` adds the prosody
 * tracker on the 16 kHz audio, the always-on part that the emotion stage rides on. Measured with
 * `process.cpuUsage` as fast as possible over the espeak-ng fixtures, repeated as one long call
 * per stream so the speaker baseline keeps learning. Runs in a few seconds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../src/models/project-root.js';
import { parseWav } from '../src/audio/wav.js';
import { silentLogger } from '../src/log/logger.js';
import { defaultModel } from '../src/emotion/fusion.js';
import { TrackEmotion } from '../src/emotion/track-emotion-observer.js';
import { ProsodyTracker } from '../src/prosody/prosody-tracker.js';
import type { ProsodyFrame } from '../src/protocol/messages.js';

// From the project root, so the compiled bench (dist/bench/) finds the committed fixtures too.
const FIXTURES = join(projectRoot(), 'test/fixtures/emotion');
const CHUNK = 320; // 20 ms at 16 kHz

interface Utterance {
  samples: Float32Array;
  text: string;
}

export async function benchEmotion(): Promise<Record<string, number>> {
  const utterances = load();
  const model = defaultModel();
  const audioS = utterances.reduce((s, u) => s + u.samples.length / 16000, 0);
  const rounds = 20;
  const out: Record<string, number> = {};

  // Prosody frames per 20 ms chunk, computed once, for the fusion-only run.
  const framesPerChunk = utterances.map((u) => {
    const tracker = new ProsodyTracker();
    const chunks: ProsodyFrame[][] = [];
    for (let at = 0; at < u.samples.length; at += CHUNK)
      chunks.push(tracker.push(u.samples.subarray(at, at + CHUNK)));
    return chunks;
  });

  const run = (withProsody: boolean): number => {
    const observer = new TrackEmotion({ model, updateIntervalMs: 400, log: silentLogger });
    const sub = observer.results.subscribe(() => {});
    const tracker = new ProsodyTracker();
    let offsetMs = 0;
    let n = 0;
    const t0 = process.cpuUsage();
    for (let r = 0; r < rounds; r++) {
      utterances.forEach((u, i) => {
        const id = `s${n++}`;
        const startMs = offsetMs;
        const words = u.text.split(' ');
        observer.speechStarted(id, startMs);
        const chunks = framesPerChunk[i]!;
        for (let c = 0; c < chunks.length; c++) {
          const frames = withProsody
            ? tracker.push(u.samples.subarray(c * CHUNK, (c + 1) * CHUNK))
            : chunks[c]!.map((f) => ({ ...f, timeMs: f.timeMs + startMs }));
          observer.prosody(frames);
          // A partial transcript every 500 ms, as the ASR stage sends them.
          if (c % 25 === 24)
            observer.partial(
              id,
              words.slice(0, Math.ceil((words.length * c) / chunks.length)).join(' '),
            );
        }
        offsetMs += (u.samples.length / 16000) * 1000;
        observer.final(id, u.text, startMs, offsetMs);
      });
    }
    const used = process.cpuUsage(t0);
    sub.unsubscribe();
    observer.close();
    return (used.user + used.system) / 1000;
  };

  run(false); // warm-up
  const fusionMs = run(false);
  const bothMs = run(true);
  const streamSeconds = audioS * rounds;
  out.fusion_cpuMsPerStreamS = round(fusionMs / streamSeconds);
  out.prosodyFusion_cpuMsPerStreamS = round(bothMs / streamSeconds);
  out.fusion_streamsPerCore = Math.round(1000 / (fusionMs / streamSeconds));
  out.prosodyFusion_streamsPerCore = Math.round(1000 / (bothMs / streamSeconds));
  out.streamSeconds = round(streamSeconds);
  return out;
}

function load(): Utterance[] {
  const rows = readFileSync(join(FIXTURES, 'transcripts.tsv'), 'utf8').trim().split('\n').slice(1);
  return rows.map((row) => {
    const [file, , text] = row.split('\t');
    return { samples: parseWav(readFileSync(join(FIXTURES, file!))).channels[0]!, text: text! };
  });
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
