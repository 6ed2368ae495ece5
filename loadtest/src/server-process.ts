/**
 * The server under test as a child process (`undertone serve --models fixtures --port 0`), and a
 * sampler of its CPU and memory: from `/proc/<pid>` when the pid is known (a child, or this very
 * process in tests), else from the `process_*` gauges of `/metrics`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveTarget, type Target } from './target.js';

/** The project root: the nearest folder above this file whose package.json is `undertone`. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'undertone'
    ) {
      return dir;
    }
    dir = dirname(dir);
  }
  return process.cwd();
}

export interface SpawnedServer {
  pid: number;
  target: Target;
  /** Sends SIGTERM, waits for the exit (SIGKILL after `graceMs`); resolves to the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface SpawnServerOptions {
  /** Extra `undertone serve` words, e.g. `['--set', 'server.resumeGraceMs=0']`. */
  args?: string[];
  /** How long to wait for the listening line and `/readyz` 200; default 180 s. */
  readyTimeoutMs?: number;
}

/** Starts `undertone serve --models fixtures --port 0` and resolves once `/readyz` answers 200. */
export async function spawnServer(options: SpawnServerOptions = {}): Promise<SpawnedServer> {
  const root = projectRoot();
  const bin = join(root, 'bin', 'undertone.js');
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('dist/src/cli/main.js is missing: run `npm run build` first');
  }
  const args = [
    bin,
    'serve',
    '--models',
    'fixtures',
    '--port',
    '0',
    '--log-level',
    'warn',
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });

  const deadline = Date.now() + (options.readyTimeoutMs ?? 180_000);
  try {
    const wsUrl = await listeningUrl(child, exited, deadline, () => stderr);
    const target = resolveTarget(wsUrl);
    await waitReady(target.httpUrl, exited, deadline, () => stderr);
    return { pid: child.pid!, target, stop: (graceMs) => stopChild(child, exited, graceMs) };
  } catch (err) {
    await stopChild(child, exited, 2000);
    throw err;
  }
}

function listeningUrl(
  child: ChildProcess,
  exited: Promise<number | null>,
  deadline: number,
  stderr: () => string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`server did not listen in time: ${stderr()}`)),
      deadline - Date.now(),
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /voice: (ws:\/\/\S+?)\)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with code ${code} before listening: ${stderr().trim()}`));
    });
  });
}

async function waitReady(
  httpUrl: string,
  exited: Promise<number | null>,
  deadline: number,
  stderr: () => string,
): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) throw new Error(`server exited while loading: ${stderr().trim()}`);
    try {
      const res = await fetch(`${httpUrl}/readyz`);
      if (res.status === 200) return;
    } catch {
      // Not answering yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server not ready before the deadline: ${stderr().trim()}`);
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<number | null>,
  graceMs = 10_000,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** One sample of the server process. */
export interface ProcessSample {
  /** Ms since the sampler started. */
  tMs: number;
  /** CPU over the last interval, percent of one core (200 = two cores busy). */
  cpuPercent: number | null;
  rssMb: number | null;
}

export type SampleSource = { pid: number } | { httpUrl: string };

/** Samples CPU and RSS every `intervalMs` (default 1000) until `stop()`. */
export class ProcessSampler {
  readonly samples: ProcessSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = performance.now();
  private last: { cpuS: number; atMs: number } | undefined;

  constructor(
    private readonly source: SampleSource,
    private readonly intervalMs = 1000,
  ) {}

  start(): this {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): ProcessSample[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.samples;
  }

  /** Takes one sample now; resolves to it (also kept in `samples`). */
  async sample(): Promise<ProcessSample> {
    const atMs = performance.now();
    const reading =
      'pid' in this.source ? readProc(this.source.pid) : await readMetrics(this.source.httpUrl);
    let cpuPercent: number | null = null;
    if (reading.cpuS !== null && this.last) {
      cpuPercent = ((reading.cpuS - this.last.cpuS) / ((atMs - this.last.atMs) / 1000)) * 100;
    }
    if (reading.cpuS !== null) this.last = { cpuS: reading.cpuS, atMs };
    const sample = { tMs: Math.round(atMs - this.startedAt), cpuPercent, rssMb: reading.rssMb };
    this.samples.push(sample);
    return sample;
  }
}

/** Clock ticks per second of `/proc/<pid>/stat` times; 100 on every Linux we run on. */
const CLOCK_TICKS_HZ = 100;

/** CPU seconds and RSS of a process from `/proc`; nulls where it is gone or not Linux. */
export function readProc(pid: number): { cpuS: number | null; rssMb: number | null } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_HZ;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return { cpuS, rssMb: Number.isFinite(rssKb) ? rssKb / 1024 : null };
  } catch {
    return { cpuS: null, rssMb: null };
  }
}

async function readMetrics(
  httpUrl: string,
): Promise<{ cpuS: number | null; rssMb: number | null }> {
  try {
    const text = await (await fetch(`${httpUrl}/metrics`)).text();
    const values = parsePrometheus(text);
    const rss = values.get('process_resident_memory_bytes');
    return {
      cpuS: values.get('process_cpu_seconds_total') ?? null,
      rssMb: rss === undefined ? null : rss / 2 ** 20,
    };
  } catch {
    return { cpuS: null, rssMb: null };
  }
}

/** Prometheus text exposition as a map from `name{labels}` (labels as written) to value. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (space > 0 && !Number.isNaN(value)) out.set(line.slice(0, space), value);
  }
  return out;
}

/** Sum of `undertone_sessions_active` over its labels, or null when `/metrics` is unreachable. */
export async function sessionsActive(httpUrl: string): Promise<number | null> {
  try {
    const values = parsePrometheus(await (await fetch(`${httpUrl}/metrics`)).text());
    let sum = 0;
    for (const [key, value] of values)
      if (key.startsWith('undertone_sessions_active')) sum += value;
    return sum;
  } catch {
    return null;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
