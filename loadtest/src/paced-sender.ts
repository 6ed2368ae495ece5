/**
 * The socket side of one simulated caller: a lean WebSocket, and a clock that sends a frame every
 * `frameMs` of wall time, drift-corrected against the start and catching up in a burst after a
 * stall, counting how late each frame left. The audio never stops: what a frame carries (speech
 * or silence) is the turn script's choice.
 */
import WebSocket from 'ws';
import { encodeFrame, FRAME_KIND } from '../../src/protocol/frame-header.js';
import type { RunMetrics } from './run-metrics.js';

/**
 * Socket options that keep hundreds of callers cheap: no compression, no UTF-8 check of the
 * server's text, and an all-zero mask, which `ws` then skips applying. A zero mask is fine for a
 * load generator on loopback; a real client behind proxies keeps random masks.
 */
export const LEAN_SOCKET = {
  perMessageDeflate: false,
  skipUTF8Validation: true,
  generateMask: () => {},
} as const;

/** How long `openLeanSocket` waits for the socket to open, in ms. */
const OPEN_TIMEOUT_MS = 15_000;

/**
 * Opens a `LEAN_SOCKET` WebSocket to `wsUrl`. `opened` rejects on an error or after 15 s; either
 * way, later socket errors are swallowed (the close event reports them).
 */
export function openLeanSocket(wsUrl: string): { ws: WebSocket; opened: Promise<void> } {
  const ws = new WebSocket(wsUrl, LEAN_SOCKET);
  const opened = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), OPEN_TIMEOUT_MS);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  }).finally(() => ws.on('error', () => {}));
  return { ws, opened };
}

/** What `sendPaced` sends, how often, and until when. */
export interface PacedSenderOptions {
  ws: WebSocket;
  metrics: RunMetrics;
  /** Frame duration and send interval, in ms. */
  frameMs: number;
  /** A frame sent more than this after its schedule counts as late, in ms. */
  lateThresholdMs: number;
  /** True when the frame due at `dueMs` (`performance.now()` scale) should not be sent: stop. */
  shouldStop(dueMs: number): boolean;
  /** The payload of the frame due now (`nowMs`, `performance.now()` scale). */
  nextPayload(nowMs: number): Uint8Array;
}

/** A running paced sender: `done` resolves once it stopped, by itself or through `stop()`. */
export interface PacedSender {
  done: Promise<void>;
  /** Stops sending (idempotent). */
  stop(): void;
}

/**
 * Sends caller-audio frames (stream 0, `seq` from 0, `timestampMs = seq * frameMs`) on schedule
 * until `shouldStop` says so or `stop()` is called. Counts `framesSent`, `framesLate` and
 * `frameLatenessMs` in `metrics`.
 */
export function sendPaced(o: PacedSenderOptions): PacedSender {
  const { ws, metrics, frameMs, lateThresholdMs } = o;
  const begin = performance.now();
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let stop!: () => void;
  const done = new Promise<void>((resolve) => {
    stop = () => {
      if (timer) clearTimeout(timer);
      resolve();
    };
  });
  const tick = (): void => {
    const now = performance.now();
    for (let due = begin + seq * frameMs; due <= now; due = begin + seq * frameMs) {
      if (o.shouldStop(due)) return stop();
      const late = now - due;
      metrics.add('frameLatenessMs', late);
      if (late > lateThresholdMs) metrics.count('framesLate');
      const payload = o.nextPayload(now);
      ws.send(
        encodeFrame(
          { kind: FRAME_KIND.callerAudio, stream: 0, seq, timestampMs: seq * frameMs },
          payload,
        ),
      );
      metrics.count('framesSent');
      seq++;
    }
    timer = setTimeout(tick, Math.max(0, begin + seq * frameMs - performance.now()));
  };
  tick();
  return { done, stop };
}
