/**
 * One load level: `callers` simulated callers ramped up evenly over `rampS`, each streaming until
 * a hard stop `durationS` after the first one started, while the server's CPU and RSS are sampled
 * every second. Bounded by construction: a fixed count of callers and a fixed end time.
 */
import type { SessionMode } from '../../src/protocol/messages.js';
import { runCaller } from './caller.js';
import type { CodecSetup, SpeechSet } from './recordings.js';
import { RunMetrics, type RunMetricsSnapshot } from './run-metrics.js';
import {
  parsePrometheus,
  ProcessSampler,
  sessionsActive,
  sleep,
  type ProcessSample,
  type SampleSource,
} from './server-process.js';
import type { Target } from './target.js';

export interface LoadLevelOptions {
  target: Target;
  callers: number;
  durationS: number;
  /** Seconds over which callers start, evenly spaced; default min(10, durationS / 3). */
  rampS?: number;
  mode: SessionMode;
  setup: CodecSetup;
  speech: SpeechSet;
  silenceOnly?: boolean;
  interruptProb?: number;
  replyTimeoutMs?: number;
  /** Prosody event interval asked of the server, ms; default 0 (off). */
  prosodyIntervalMs?: number;
  /** Each caller ends after this many finished turns; `durationS` is then a deadline. */
  maxTurnsPerCaller?: number;
  /** Where server CPU and RSS come from; default `/metrics` of the target. */
  sampleFrom?: SampleSource;
  /** Seed of the callers' random choices, for repeatable runs; default 1. */
  seed?: number;
  /** Called once a second with progress, for the terminal. */
  onProgress?: (progress: { elapsedS: number; active: number; metrics: RunMetrics }) => void;
}

export interface LoadLevelReport {
  callers: number;
  durationS: number;
  rampS: number;
  mode: SessionMode;
  codec: string;
  silenceOnly: boolean;
  metrics: RunMetricsSnapshot;
  server: {
    samples: ProcessSample[];
    cpuPercent: { mean: number | null; max: number | null };
    rssMb: { start: number | null; max: number | null; end: number | null };
  };
  /** Histogram observation counts of `/metrics` after the run (`undertone_*_count`). */
  serverHistograms: Record<string, number>;
  /** After the callers left: time until `undertone_sessions_active` read 0 (null: not in 60 s). */
  release: { releaseMs: number | null; sessionsActive: number | null; rssMb: number | null };
  /** The server's event-loop lag at the end, since the previous `/metrics` scrape (prom-client), ms. */
  serverEventLoopLagMs: { p50: number; p99: number; max: number } | null;
  /** CPU of this load generator over the level, percent of one core. */
  loadGeneratorCpuPercent: number;
  wallS: number;
}

/** Runs one level to its end and reports it. */
export async function runLoadLevel(options: LoadLevelOptions): Promise<LoadLevelReport> {
  const { callers, durationS } = options;
  const rampS = options.rampS ?? Math.min(10, durationS / 3);
  const metrics = new RunMetrics();
  const sampler = new ProcessSampler(
    options.sampleFrom ?? { httpUrl: options.target.httpUrl },
  ).start();
  const random = mulberry32(options.seed ?? 1);

  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const stopAtMs = t0 + durationS * 1000;
  let active = 0;
  const progress = setInterval(() => {
    options.onProgress?.({ elapsedS: (performance.now() - t0) / 1000, active, metrics });
  }, 1000);

  const runs: Promise<void>[] = [];
  for (let i = 0; i < callers; i++) {
    const startAt = t0 + (callers <= 1 ? 0 : (rampS * 1000 * i) / callers);
    const wait = startAt - performance.now();
    if (wait > 0) await sleep(wait);
    if (performance.now() >= stopAtMs) break;
    active++;
    runs.push(
      runCaller({
        wsUrl: options.target.wsUrl,
        mode: options.mode,
        setup: options.setup,
        speech: options.speech,
        metrics,
        stopAtMs,
        silenceOnly: options.silenceOnly,
        interruptProb: options.interruptProb,
        replyTimeoutMs: options.replyTimeoutMs,
        maxTurns: options.maxTurnsPerCaller,
        prosodyIntervalMs: options.prosodyIntervalMs,
        random: mulberry32(Math.floor(random() * 2 ** 32)),
      }).finally(() => active--),
    );
  }
  await Promise.all(runs);
  clearInterval(progress);
  const cpu = process.cpuUsage(cpu0);
  const loadGeneratorCpuPercent = Math.round(
    ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100,
  );
  await sampler.sample();
  const samples = sampler.stop();
  // Before the release wait: its `/metrics` polls reset prom-client's event-loop lag window.
  const scraped = await scrapeServer(options.target.httpUrl);
  const release = await awaitRelease(options.target.httpUrl, sampler);

  return {
    callers,
    durationS,
    rampS,
    mode: options.mode,
    codec: options.setup.codec,
    silenceOnly: options.silenceOnly ?? false,
    metrics: metrics.snapshot(),
    server: summarizeSamples(samples),
    release,
    ...scraped,
    loadGeneratorCpuPercent,
    wallS: (performance.now() - t0) / 1000,
  };
}

/** Waits (60 s at most) for the server to close every session, then reads its RSS. */
async function awaitRelease(
  httpUrl: string,
  sampler: ProcessSampler,
): Promise<LoadLevelReport['release']> {
  const t0 = performance.now();
  let active = await sessionsActive(httpUrl);
  while (active !== null && active > 0 && performance.now() - t0 < 60_000) {
    await sleep(250);
    active = await sessionsActive(httpUrl);
  }
  const releaseMs = active === 0 ? Math.round(performance.now() - t0) : null;
  return { releaseMs, sessionsActive: active, rssMb: (await sampler.sample()).rssMb };
}

export function summarizeSamples(samples: ProcessSample[]): LoadLevelReport['server'] {
  const cpu = samples.map((s) => s.cpuPercent).filter((v): v is number => v !== null);
  const rss = samples.map((s) => s.rssMb).filter((v): v is number => v !== null);
  return {
    samples,
    cpuPercent: {
      mean: cpu.length ? cpu.reduce((a, b) => a + b, 0) / cpu.length : null,
      max: cpu.length ? Math.max(...cpu) : null,
    },
    rssMb: {
      start: rss[0] ?? null,
      max: rss.length ? Math.max(...rss) : null,
      end: rss.at(-1) ?? null,
    },
  };
}

/** Histogram counts and event-loop lag from `/metrics`; empty when it does not answer. */
async function scrapeServer(
  httpUrl: string,
): Promise<Pick<LoadLevelReport, 'serverHistograms' | 'serverEventLoopLagMs'>> {
  let text: string;
  try {
    text = await (await fetch(`${httpUrl}/metrics`)).text();
  } catch {
    return { serverHistograms: {}, serverEventLoopLagMs: null };
  }
  const values = parsePrometheus(text);
  const lag = (q: string): number =>
    Math.round((values.get(`nodejs_eventloop_lag_${q}_seconds`) ?? NaN) * 1e4) / 10;
  const serverEventLoopLagMs = values.has('nodejs_eventloop_lag_p99_seconds')
    ? { p50: lag('p50'), p99: lag('p99'), max: lag('max') }
    : null;
  return { serverHistograms: histogramCounts(text), serverEventLoopLagMs };
}

/** `undertone_*` histogram `_count` values of a `/metrics` text, labels folded together. */
export function histogramCounts(text: string): Record<string, number> {
  const histograms = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (undertone_\S+) histogram$/gm)) histograms.add(m[1]!);
  const counts: Record<string, number> = Object.fromEntries([...histograms].map((h) => [h, 0]));
  for (const m of text.matchAll(/^(undertone_\S+?)_count(?:\{[^}]*\})? (\S+)$/gm)) {
    if (histograms.has(m[1]!)) counts[m[1]!] = (counts[m[1]!] ?? 0) + Number(m[2]);
  }
  return counts;
}

/** A small seeded generator (mulberry32), uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
