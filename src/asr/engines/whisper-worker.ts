/**
 * The local Whisper engine (`whisper-local.ts`) run in a `node:worker_threads` Worker, so that its
 * log-mel feature extraction (100-160 ms of synchronous JS per request) and decoding loop leave
 * the main event loop free for every session's real-time path (decode, VAD, prosody).
 *
 * One worker per loaded model (folder, device and dtype), shared by every engine object that asks
 * for it; the main thread never loads the model. Requests go over as messages with a copy of the
 * audio whose buffer is transferred (callers keep theirs). A request aborted before its decode
 * starts is dropped in the worker; one already decoding runs to its end and its result is ignored,
 * while the caller gets the signal's reason at once. A worker that dies fails its pending
 * requests with `UT_ERR_ASR_FAILED` and is started again (the model reloaded) on the next request.
 *
 * From compiled JS the worker runs `whisper-worker-thread.js`. Under vitest, which runs the `.ts`
 * sources and does not transform worker files, the worker starts from a small eval'd bootstrap
 * that registers module hooks compiling `.ts` with rolldown's oxc transform (vite's own dependency,
 * so present wherever vitest is; nothing is installed for it). Those hooks are used only when this
 * module itself is loaded as `.ts`.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UndertoneError } from '../../errors/undertone-error.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import type { AsrBatchRequest, AsrEngine, AsrOptions, AsrResult } from '../types.js';
import type { WhisperLocalOptions } from './whisper-local.js';
import {
  fromWireError,
  type FromWorker,
  type ToWorker,
  type WhisperWorkerData,
  type WireRequest,
} from './whisper-worker-messages.js';

interface PendingBatch {
  /** Indices into the caller's requests of the entries sent, in the order sent. */
  sent: number[];
  results: (AsrResult | Error | undefined)[];
  finish(): void;
}

const hosts = new Map<string, WorkerHost>();

/** How many Whisper worker threads this process runs now (one per loaded model). */
export function whisperWorkersRunning(): number {
  return [...hosts.values()].filter((host) => host.running).length;
}

/**
 * Starts (or reuses) the worker for the model and returns an engine over it, once the worker has
 * loaded the model.
 * @throws UndertoneError `UT_ERR_MODEL_MISSING` when the folder does not hold a loadable Whisper.
 */
export async function createWhisperWorkerAsr(options: WhisperLocalOptions): Promise<AsrEngine> {
  const key = `${options.modelDir}|${options.device ?? 'cpu'}|${options.dtype ?? 'fp32'}`;
  let host = hosts.get(key);
  if (!host) {
    host = new WorkerHost(key, options);
    hosts.set(key, host);
  }
  host.refs++;
  try {
    await host.start();
  } catch (err) {
    await host.release();
    throw err;
  }
  return new WhisperWorkerEngine(host);
}

/** @internal Test hook: makes the engine's worker throw an uncaught error, as a crash would. */
export function crashWhisperWorkerForTest(engine: AsrEngine): void {
  if (!(engine instanceof WhisperWorkerEngine)) throw new Error('not a whisper worker engine');
  engine.host.post({ type: 'crash' });
}

class WhisperWorkerEngine implements AsrEngine {
  readonly name = 'whisper-local-worker';
  private closed = false;

  constructor(readonly host: WorkerHost) {}

  async transcribe(audio: Float32Array, options: AsrOptions = {}): Promise<AsrResult> {
    const [result] = await this.transcribeBatch([{ audio, options }]);
    if (result instanceof Error) throw result;
    return result!;
  }

  async transcribeBatch(requests: AsrBatchRequest[]): Promise<(AsrResult | Error)[]> {
    if (this.closed) throw closedError();
    return this.host.run(requests);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.host.release();
  }
}

/** One worker thread and the batches sent to it; restarts the worker after it dies. */
class WorkerHost {
  refs = 0;
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<number, PendingBatch>();
  private nextId = 1;
  private closing = false;

  constructor(
    private readonly key: string,
    private readonly options: WhisperLocalOptions,
  ) {}

  get running(): boolean {
    return this.worker !== null;
  }

  /** Starts the worker unless it runs; resolves once its model is loaded. */
  start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = spawnWorker({ options: this.options });
    this.worker = worker;
    let crash: unknown;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          resolve();
          this.updateRef();
        } else if (message.type === 'load-failed') reject(fromWireError(message.error));
        else this.settle(message);
      });
      worker.on('error', (err) => (crash = err));
      worker.on('exit', (exitCode) => {
        if (this.worker === worker) {
          this.worker = null;
          this.ready = null;
        }
        const error = this.closing
          ? closedError()
          : new UndertoneError(ERROR_CODES.asrFailed, `whisper worker exited (code ${exitCode})`, {
              category: 'upstream',
              cause: crash,
            });
        reject(error);
        for (const batch of [...this.pending.values()]) fill(batch, error);
      });
    });
    this.ready.catch(() => undefined);
    return this.ready;
  }

  async run(requests: AsrBatchRequest[]): Promise<(AsrResult | Error)[]> {
    const results: (AsrResult | Error | undefined)[] = requests.map((r) => abortReason(r.options));
    // Copy now: the caller may reuse its buffers while the worker starts.
    const copies = requests.map((r) => (abortReason(r.options) ? null : r.audio.slice()));
    await this.start();
    const worker = this.worker;
    if (!worker) {
      throw new UndertoneError(ERROR_CODES.asrFailed, 'whisper worker stopped', {
        category: 'upstream',
      });
    }

    const sent: number[] = [];
    const wire: WireRequest[] = [];
    requests.forEach((request, i) => {
      results[i] ??= abortReason(request.options);
      if (results[i] !== undefined) return;
      const { signal: _signal, ...options } = request.options ?? {};
      sent.push(i);
      wire.push({ audio: copies[i]!, options });
    });
    if (sent.length === 0) return results as (AsrResult | Error)[];

    const id = this.nextId++;
    return new Promise((resolve) => {
      const detach: Array<() => void> = [];
      const batch: PendingBatch = {
        sent,
        results,
        finish: () => {
          if (!this.pending.delete(id)) return;
          detach.forEach((off) => off());
          this.updateRef();
          resolve(results as (AsrResult | Error)[]);
        },
      };
      sent.forEach((at, index) => {
        const signal = requests[at]!.options?.signal;
        if (!signal) return;
        const onAbort = () => {
          results[at] ??= signal.reason as Error;
          this.post({ type: 'cancel', id, index });
          if (sent.every((i) => results[i] !== undefined)) batch.finish();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        detach.push(() => signal.removeEventListener('abort', onAbort));
      });
      this.pending.set(id, batch);
      this.updateRef();
      const transfer = wire.map((w) => w.audio.buffer as ArrayBuffer);
      worker.postMessage({ type: 'batch', id, requests: wire } satisfies ToWorker, transfer);
    });
  }

  post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  /** Drops one engine's hold; the last one terminates the worker. */
  async release(): Promise<void> {
    if (--this.refs > 0) return;
    this.closing = true;
    if (hosts.get(this.key) === this) hosts.delete(this.key);
    const worker = this.worker;
    for (const batch of [...this.pending.values()]) fill(batch, closedError());
    if (worker) await worker.terminate();
  }

  private settle(message: Exclude<FromWorker, { type: 'ready' | 'load-failed' }>): void {
    const batch = this.pending.get(message.id);
    if (!batch) return;
    if (message.type === 'failed') {
      fill(batch, fromWireError(message.error));
      return;
    }
    message.outcomes.forEach((outcome, index) => {
      const at = batch.sent[index]!;
      batch.results[at] ??= outcome.ok ? outcome.result : fromWireError(outcome.error);
    });
    batch.finish();
  }

  /** Keeps the process alive only while a load or a decode is in flight. */
  private updateRef(): void {
    if (!this.worker) return;
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}

/** Sets every entry of the batch not yet settled to `error` and resolves it. */
function fill(batch: PendingBatch, error: Error): void {
  for (const at of batch.sent) batch.results[at] ??= error;
  batch.finish();
}

function abortReason(options: AsrOptions | undefined): Error | undefined {
  return options?.signal?.aborted ? (options.signal.reason as Error) : undefined;
}

const closedError = () =>
  new UndertoneError(ERROR_CODES.asrFailed, 'whisper engine closed', { category: 'upstream' });

function spawnWorker(workerData: WhisperWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./whisper-worker-thread.js', import.meta.url), { workerData });
  }
  const entry = new URL('./whisper-worker-thread.ts', import.meta.url).href;
  return new Worker(sourceBootstrap(entry), { eval: true, workerData });
}

/**
 * Script of a worker that runs `entry` from TypeScript sources: module hooks that map a missing
 * `./x.js` import of a `.ts` file to `./x.ts` and strip types with rolldown's oxc transform.
 */
function sourceBootstrap(entry: string): string {
  let transformer: string;
  try {
    transformer = createRequire(import.meta.url).resolve('rolldown/experimental');
  } catch (err) {
    throw new UndertoneError(
      ERROR_CODES.asrFailed,
      'the whisper worker needs rolldown (a vite dependency) to run from .ts; build with tsc',
      { category: 'internal', recoverable: false, cause: err },
    );
  }
  const hooks = `
import { transformSync } from ${JSON.stringify(pathToFileURL(transformer).href)};
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const local = /^\\.\\.?\\//.test(specifier) && specifier.endsWith('.js');
    const fromTs = context.parentURL?.endsWith('.ts');
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !local || !fromTs) throw err;
    return next(specifier.slice(0, -3) + '.ts', context);
  }
}
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const path = fileURLToPath(url);
  const { code, errors } = transformSync(path, await readFile(path, 'utf8'), { sourcemap: false });
  if (errors.length > 0) throw new Error(path + ': ' + errors[0].message);
  return { format: 'module', source: code, shortCircuit: true };
}`;
  const hooksUrl = `data:text/javascript,${encodeURIComponent(hooks)}`;
  return `require('node:module').register(${JSON.stringify(hooksUrl)});
import(${JSON.stringify(entry)}).catch((err) => setImmediate(() => { throw err; }));`;
}
