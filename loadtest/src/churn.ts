/**
 * Connection lifecycle checks:
 *
 * - churn: many short connect / `session.start` / a few frames / `session.end` cycles. A server that
 *   loaded a model (or leaked a session) per connection grows by megabytes per cycle; one that
 *   shares its engines stays flat after warm-up.
 * - disconnect storm: many callers streaming at once drop their sockets together; the server must
 *   release their sessions (memory back near its baseline) and accept new callers right after.
 */
import WebSocket from 'ws';
import { encodeFrame, FRAME_KIND } from '../../src/protocol/frame-header.js';
import { LEAN_SOCKET } from './caller.js';
import { startMessage, type CodecSetup, type SpeechSet } from './recordings.js';
import { ProcessSampler, sessionsActive, sleep, type SampleSource } from './server-process.js';
import { Tally } from './stats.js';
import type { Target } from './target.js';

export interface ChurnOptions {
  target: Target;
  cycles: number;
  /** Cycles in flight at once; default 8. */
  concurrency?: number;
  /** Frames sent per cycle before `session.end`; default 5. */
  framesPerCycle?: number;
  setup: CodecSetup;
  speech: SpeechSet;
  sampleFrom?: SampleSource;
  /** RSS is sampled after every this many cycles; default cycles / 20. */
  sampleEvery?: number;
}

export interface ChurnReport {
  cycles: number;
  completed: number;
  failures: Record<string, number>;
  /** RSS before the first cycle, after a tenth of them (warm), and after the last. */
  rssMb: { before: number | null; warm: number | null; after: number | null };
  /** (after - warm) / cycles after warm-up, in KB per cycle. */
  growthKbPerCycle: number | null;
  rssByCycle: Array<{ cycle: number; rssMb: number | null }>;
  sessionsActiveAfter: number | null;
  wallS: number;
}

/** Runs `cycles` connect / start / end cycles and reports the server's RSS along the way. */
export async function runChurn(options: ChurnOptions): Promise<ChurnReport> {
  const { cycles } = options;
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 8, cycles));
  const sampleEvery = Math.max(1, options.sampleEvery ?? Math.ceil(cycles / 20));
  const warmAt = Math.max(1, Math.floor(cycles / 10));
  const sampler = new ProcessSampler(options.sampleFrom ?? { httpUrl: options.target.httpUrl });
  const failures = new Tally();
  const rssByCycle: ChurnReport['rssByCycle'] = [];
  const t0 = performance.now();

  rssByCycle.push({ cycle: 0, rssMb: (await sampler.sample()).rssMb });
  let next = 0;
  let completed = 0;
  let warm: number | null = null;
  const worker = async (): Promise<void> => {
    while (next < cycles) {
      next++;
      try {
        await oneCycle(options);
        completed++;
      } catch (err) {
        failures.add((err as Error).message.slice(0, 60));
      }
      const done = completed + failures.total;
      if (done % sampleEvery === 0 || done === warmAt) {
        const { rssMb } = await sampler.sample();
        rssByCycle.push({ cycle: done, rssMb });
        if (done === warmAt) warm = rssMb;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await sleep(500);
  const after = (await sampler.sample()).rssMb;
  rssByCycle.push({ cycle: cycles, rssMb: after });

  const before = rssByCycle[0]!.rssMb;
  const warmRss = warm as number | null;
  return {
    cycles,
    completed,
    failures: failures.toJSON(),
    rssMb: { before, warm: warmRss, after },
    growthKbPerCycle:
      warmRss !== null && after !== null && cycles > warmAt
        ? ((after - warmRss) * 1024) / (cycles - warmAt)
        : null,
    rssByCycle,
    sessionsActiveAfter: await sessionsActive(options.target.httpUrl),
    wallS: (performance.now() - t0) / 1000,
  };
}

/** Opens a connection, starts a session, sends a few frames, ends it and waits for the close. */
async function oneCycle(options: ChurnOptions): Promise<void> {
  const ws = await openSocket(options.target.wsUrl);
  try {
    const events = collectEvents(ws);
    sendStart(ws, options.setup);
    await events.waitFor('session.started', 10_000);
    const frames = options.framesPerCycle ?? 5;
    for (let seq = 0; seq < frames; seq++) {
      const payload =
        options.speech.utterances[0]!.frames[seq % options.speech.utterances[0]!.frames.length]!;
      ws.send(
        encodeFrame(
          { kind: FRAME_KIND.callerAudio, stream: 0, seq, timestampMs: seq * 20 },
          payload,
        ),
      );
    }
    ws.send(JSON.stringify({ type: 'session.end', reason: 'churn' }));
    await events.waitFor('session.ended', 10_000);
  } finally {
    ws.close();
    await new Promise<void>((resolve) =>
      ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve()),
    );
  }
}

export function openSocket(url: string, timeoutMs = 10_000): Promise<WebSocket> {
  const ws = new WebSocket(url, LEAN_SOCKET);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('connect-timeout'));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.on('error', () => {});
      resolve(ws);
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`connect-failed:${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
  });
}

export function sendStart(
  ws: WebSocket,
  setup: CodecSetup,
  mode: 'agent' | 'transcribe' = 'agent',
): void {
  ws.send(JSON.stringify(startMessage(setup, mode)));
}

/** Waits for server events by type; rejects on timeout, an `error` event before it, or close. */
export function collectEvents(ws: WebSocket): {
  waitFor(type: string, timeoutMs: number): Promise<Record<string, unknown>>;
} {
  const seen: Array<Record<string, unknown>> = [];
  let wake: (() => void) | undefined;
  let closed = false;
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    seen.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    wake?.();
  });
  ws.on('close', () => {
    closed = true;
    wake?.();
  });
  return {
    async waitFor(type, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const index = seen.findIndex((e) => e.type === type);
        if (index >= 0) return seen.splice(index, 1)[0]!;
        const error = seen.find((e) => e.type === 'error' && e.recoverable === false);
        if (error) throw new Error(String(error.code));
        if (closed) throw new Error(`closed-before:${type}`);
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`timeout:${type}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}
