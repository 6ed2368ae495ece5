/**
 * Many callers that stream and then drop their sockets at the same instant (no `session.end`, as
 * when a network link dies). Reports the server's RSS at baseline, under load and after the
 * sessions are released, and whether new callers get a session right after.
 *
 * A dropped session may be kept for resume (`server.resumeGraceMs`), so the storm waits until
 * `undertone_sessions_active` reaches 0 (or `releaseTimeoutMs` passes) before the last reading.
 */
import type WebSocket from 'ws';
import { encodeFrame, FRAME_KIND } from '../../src/protocol/frame-header.js';
import { collectEvents, openSocket, sendStart } from './churn.js';
import type { CodecSetup, SpeechSet } from './recordings.js';
import { ProcessSampler, sessionsActive, sleep, type SampleSource } from './server-process.js';
import { Tally } from './stats.js';
import type { Target } from './target.js';

export interface DisconnectStormOptions {
  target: Target;
  callers: number;
  /** How long the callers stream before they all drop; default 2000 ms. */
  holdMs?: number;
  /** Callers opened after the storm to check the server still accepts; default 5. */
  probeCallers?: number;
  /** Longest wait for the sessions to be released; default 60 s. */
  releaseTimeoutMs?: number;
  setup: CodecSetup;
  speech: SpeechSet;
  sampleFrom?: SampleSource;
}

export interface DisconnectStormReport {
  callers: number;
  connected: number;
  rssMb: { baseline: number | null; loaded: number | null; released: number | null };
  sessionsActive: { loaded: number | null; released: number | null };
  /** Ms from the drop until `undertone_sessions_active` read 0, or null when it never did. */
  releaseMs: number | null;
  /** Probe callers that got `session.started` right after the release. */
  probesAccepted: number;
  probeCallers: number;
  failures: Record<string, number>;
}

export async function runDisconnectStorm(
  options: DisconnectStormOptions,
): Promise<DisconnectStormReport> {
  const sampler = new ProcessSampler(options.sampleFrom ?? { httpUrl: options.target.httpUrl });
  const failures = new Tally();
  const baseline = (await sampler.sample()).rssMb;

  const opened = await Promise.all(
    Array.from({ length: options.callers }, () =>
      startStreaming(options).catch((err: Error) => {
        failures.add(err.message.slice(0, 60));
        return undefined;
      }),
    ),
  );
  const live = opened.filter((c): c is Streaming => c !== undefined);
  await sleep(options.holdMs ?? 2000);
  const loaded = (await sampler.sample()).rssMb;
  const activeLoaded = await sessionsActive(options.target.httpUrl);

  const droppedAt = performance.now();
  for (const c of live) c.drop();
  let releaseMs: number | null = null;
  const deadline = droppedAt + (options.releaseTimeoutMs ?? 60_000);
  while (performance.now() < deadline) {
    if ((await sessionsActive(options.target.httpUrl)) === 0) {
      releaseMs = performance.now() - droppedAt;
      break;
    }
    await sleep(100);
  }
  await sleep(500);
  const released = (await sampler.sample()).rssMb;
  const activeReleased = await sessionsActive(options.target.httpUrl);

  const probeCallers = options.probeCallers ?? 5;
  let probesAccepted = 0;
  await Promise.all(
    Array.from({ length: probeCallers }, async () => {
      try {
        const ws = await openSocket(options.target.wsUrl);
        const events = collectEvents(ws);
        sendStart(ws, options.setup);
        await events.waitFor('session.started', 10_000);
        probesAccepted++;
        ws.send(JSON.stringify({ type: 'session.end', reason: 'probe' }));
        await events.waitFor('session.ended', 10_000).catch(() => undefined);
        ws.close();
      } catch (err) {
        failures.add(`probe:${(err as Error).message.slice(0, 50)}`);
      }
    }),
  );

  return {
    callers: options.callers,
    connected: live.length,
    rssMb: { baseline, loaded, released },
    sessionsActive: { loaded: activeLoaded, released: activeReleased },
    releaseMs,
    probesAccepted,
    probeCallers,
    failures: failures.toJSON(),
  };
}

interface Streaming {
  drop(): void;
}

/** Connects, starts a session and streams speech frames every 20 ms until dropped. */
async function startStreaming(options: DisconnectStormOptions): Promise<Streaming> {
  const ws: WebSocket = await openSocket(options.target.wsUrl);
  const events = collectEvents(ws);
  sendStart(ws, options.setup);
  await events.waitFor('session.started', 15_000);
  const frames = options.speech.utterances.flatMap((u) => u.frames);
  const begin = performance.now();
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const now = performance.now();
    while (begin + seq * 20 <= now) {
      const payload = frames[seq % frames.length]!;
      ws.send(
        encodeFrame(
          { kind: FRAME_KIND.callerAudio, stream: 0, seq, timestampMs: seq * 20 },
          payload,
        ),
      );
      seq++;
    }
    timer = setTimeout(tick, begin + seq * 20 - performance.now());
  };
  tick();
  return {
    drop() {
      clearTimeout(timer);
      ws.terminate();
    },
  };
}
