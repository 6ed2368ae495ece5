/**
 * The shared front of an ASR engine: every session's decodes go through one scheduler, which
 * bounds the queue, serves `final` requests before partials, batches what is waiting, and sheds
 * partials on purpose when it falls behind. A final is never dropped.
 *
 * Shedding rules, in order:
 * - a stream has at most one partial waiting: a newer one replaces it (the older is shed);
 * - a final of a stream sheds that stream's waiting partial;
 * - with more than `maxQueue` requests waiting, the oldest partials are shed until it fits.
 * A shed request resolves to `null`; an aborted one rejects with the signal's reason.
 */
import type { Logger } from 'pino';
import { ERROR_CODES } from '../protocol/error-codes.js';
import { UndertoneError } from '../errors/undertone-error.js';
import { silentLogger } from '../log/logger.js';
import { metrics } from '../metrics/metrics.js';
import type { AsrEngine, AsrOptions, AsrResult } from './types.js';

export interface AsrSchedulerOptions {
  engine: AsrEngine;
  /** Requests waiting before partials are shed (config `asr.maxQueue`). */
  maxQueue?: number;
  /** Hand several waiting requests to the engine at once (config `asr.batch`). */
  batch?: boolean;
  /** Most requests in one batch (config `asr.maxBatch`). */
  maxBatch?: number;
  /** Batches in flight at once: 1 for a local model, more for a remote server. */
  concurrency?: number;
  log?: Logger;
}

/** One request: `streamKey` names the session track, for one-partial-per-stream shedding. */
export interface AsrRequest extends AsrOptions {
  streamKey?: string;
}

export interface AsrScheduler {
  /** Queues a decode. Resolves to null when a partial was shed; finals always resolve. */
  transcribe(audio: Float32Array, request?: AsrRequest): Promise<AsrResult | null>;
  /** Requests waiting (not in flight). */
  readonly queueDepth: number;
  /** Partials shed since start. */
  readonly shedCount: number;
  /** Rejects waiting requests and stops; in-flight ones finish. Does not close the engine. */
  close(): void;
}

interface Pending {
  audio: Float32Array;
  request: AsrRequest;
  priority: 'partial' | 'final';
  resolve: (result: AsrResult | null) => void;
  reject: (err: unknown) => void;
  onAbort?: () => void;
}

/** Creates the scheduler in front of one engine. */
export function createAsrScheduler(options: AsrSchedulerOptions): AsrScheduler {
  const { engine } = options;
  const maxQueue = options.maxQueue ?? 64;
  const maxBatch = options.batch === false ? 1 : Math.max(1, options.maxBatch ?? 8);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const log = (options.log ?? silentLogger).child({ stage: 'asr' });
  const finals: Pending[] = [];
  const partials: Pending[] = [];
  let inFlight = 0;
  let shedCount = 0;
  let closed = false;

  const depth = () => finals.length + partials.length;
  const updateDepth = () => metrics.queueDepth.set({ stage: 'asr' }, depth());

  const detach = (item: Pending) => {
    if (item.onAbort) item.request.signal?.removeEventListener('abort', item.onAbort);
  };

  const shed = (item: Pending, reason: string) => {
    detach(item);
    shedCount++;
    metrics.asrShed.inc();
    log.debug(
      { reason, streamKey: item.request.streamKey, queueDepth: depth() },
      'asr partial shed',
    );
    item.resolve(null);
  };

  const removeFrom = (list: Pending[], item: Pending): boolean => {
    const at = list.indexOf(item);
    if (at >= 0) list.splice(at, 1);
    return at >= 0;
  };

  const shedPartialOf = (streamKey: string | undefined, reason: string) => {
    if (streamKey === undefined) return;
    const old = partials.find((p) => p.request.streamKey === streamKey);
    if (old) {
      removeFrom(partials, old);
      shed(old, reason);
    }
  };

  const takeBatch = (): Pending[] => {
    const batch: Pending[] = [];
    while (batch.length < maxBatch && finals.length > 0) batch.push(finals.shift()!);
    // Newest partials first: they are the freshest view of their streams.
    while (batch.length < maxBatch && partials.length > 0) batch.push(partials.pop()!);
    return batch;
  };

  const run = async (batch: Pending[]) => {
    inFlight++;
    updateDepth();
    metrics.asrBatchSize.observe(batch.length);
    const started = performance.now();
    try {
      const results = await decode(batch);
      const seconds = (performance.now() - started) / 1000;
      batch.forEach((item, i) => {
        detach(item);
        metrics.asrSeconds.observe({ kind: item.priority }, seconds);
        const result = results[i]!;
        if (result instanceof Error) item.reject(result);
        else item.resolve(result);
      });
    } finally {
      inFlight--;
      pump();
    }
  };

  const decode = async (batch: Pending[]): Promise<(AsrResult | Error)[]> => {
    const calls = batch.map((item) => ({ audio: item.audio, options: engineOptions(item) }));
    if (batch.length > 1 && engine.transcribeBatch) {
      try {
        return await engine.transcribeBatch(calls);
      } catch (err) {
        return batch.map(() => asError(err));
      }
    }
    return Promise.all(
      calls.map((call) =>
        engine.transcribe(call.audio, call.options).catch((err: unknown) => asError(err)),
      ),
    );
  };

  const pump = () => {
    while (!closed && inFlight < concurrency && depth() > 0) {
      const batch = takeBatch();
      void run(batch);
    }
    updateDepth();
  };

  return {
    transcribe(audio, request = {}) {
      if (closed) {
        return Promise.reject(
          new UndertoneError(ERROR_CODES.overloaded, 'asr scheduler closed', {
            category: 'upstream',
          }),
        );
      }
      if (request.signal?.aborted) return Promise.reject(request.signal.reason);
      const priority = request.priority ?? 'final';
      return new Promise<AsrResult | null>((resolve, reject) => {
        const item: Pending = { audio, request, priority, resolve, reject };
        if (request.signal) {
          item.onAbort = () => {
            if (removeFrom(finals, item) || removeFrom(partials, item)) {
              updateDepth();
              reject(request.signal!.reason);
            }
          };
          request.signal.addEventListener('abort', item.onAbort, { once: true });
        }

        shedPartialOf(request.streamKey, priority === 'final' ? 'final queued' : 'newer partial');
        if (priority === 'final') finals.push(item);
        else partials.push(item);
        while (depth() > maxQueue && partials.length > 0) shed(partials.shift()!, 'queue full');
        pump();
      });
    },
    get queueDepth() {
      return depth();
    },
    get shedCount() {
      return shedCount;
    },
    close() {
      closed = true;
      const error = new UndertoneError(ERROR_CODES.overloaded, 'asr scheduler closed', {
        category: 'upstream',
      });
      for (const item of [...finals.splice(0), ...partials.splice(0)]) {
        detach(item);
        item.reject(error);
      }
      updateDepth();
    },
  };
}

function engineOptions(item: Pending): AsrOptions {
  const { streamKey: _streamKey, ...rest } = item.request;
  return { ...rest, priority: item.priority };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
