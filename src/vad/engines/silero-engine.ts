/**
 * The process-wide Silero VAD: one ONNX session shared by every stream, a micro-scheduler that
 * batches the windows pending at the same time (one per stream) into one inference, and the
 * recurrent state and 64-sample context carried per stream from window to window.
 */
import { Subject, type Observable } from 'rxjs';
import type { Logger } from '../../log/logger.js';
import { silentLogger } from '../../log/logger.js';
import { metrics } from '../../metrics/metrics.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import { UndertoneError } from '../../errors/undertone-error.js';
import { Segmenter, type SegmenterOptions } from '../segmenter.js';
import {
  SILERO_CONTEXT_SAMPLES,
  SILERO_INPUT_SAMPLES,
  SILERO_STATE_SIZE,
  SILERO_WINDOW_SAMPLES,
  SileroModel,
  type SileroModelName,
} from '../silero-model.js';
import type { VadEngine, VadEvent, VadStream } from '../types.js';

/** Windows waiting in one stream (~1 s of audio) at which the engine warns that it lags. */
const LAG_WARN_WINDOWS = 32;

export interface SileroVadEngineOptions {
  /** Default `silero-v5`. */
  model?: SileroModelName;
  /** Batch windows of many streams into one inference (default true). */
  batch?: boolean;
  /** Most windows per inference (default 64). */
  maxBatch?: number;
  /** Intra-op threads of the session (default 1). */
  threads?: number;
  /** Segmenter defaults for streams of this engine (`config.vad.*`). */
  defaults?: Partial<SegmenterOptions>;
  logger?: Logger;
}

/** Loads the model and returns the shared engine. */
export async function createSileroVadEngine(
  options: SileroVadEngineOptions = {},
): Promise<SileroVadEngine> {
  const model = await SileroModel.load({
    model: options.model ?? 'silero-v5',
    threads: options.threads,
  });
  return new SileroVadEngine(model, options);
}

export class SileroVadEngine implements VadEngine {
  private readonly maxBatch: number;
  private readonly log: Logger;
  /** Streams with at least one window waiting, in arrival order. */
  private readonly ready = new Set<SileroVadStream>();
  private readonly streams = new Set<SileroVadStream>();
  private scheduled = false;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly model: SileroModel,
    private readonly options: SileroVadEngineOptions,
  ) {
    this.maxBatch = options.batch === false ? 1 : Math.max(1, options.maxBatch ?? 64);
    this.log = (options.logger ?? silentLogger).child({ stage: 'vad' });
  }

  createStream(options: Partial<SegmenterOptions> = {}, log?: Logger): SileroVadStream {
    if (this.closed) throw new UndertoneError(ERROR_CODES.internal, 'VAD engine is closed');
    const segmenter = new Segmenter({ ...this.options.defaults, ...options });
    const stream = new SileroVadStream(this, segmenter, log?.child({ stage: 'vad' }) ?? this.log);
    this.streams.add(stream);
    return stream;
  }

  /** Closes every stream (their `events` complete) and releases the session. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ready.clear();
    for (const stream of [...this.streams]) stream.close();
    await this.running;
    await this.model.release();
  }

  /** Called by a stream when it has a new window. */
  wake(stream: SileroVadStream): void {
    this.ready.add(stream);
    this.schedule();
  }

  /** A stream's windows pile up: inference is slower than its audio arrives. */
  reportLag(pendingWindows: number, log: Logger = this.log): void {
    log.warn({ lagMs: pendingWindows * 32, streams: this.streams.size }, 'vad behind input');
  }

  forget(stream: SileroVadStream): void {
    this.ready.delete(stream);
    this.streams.delete(stream);
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.closed) return;
    this.scheduled = true;
    // setImmediate lets every stream fed in the same turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.drain().finally(() => {
        this.running = undefined;
        if (this.ready.size > 0) this.schedule();
      });
    });
  }

  private async drain(): Promise<void> {
    while (this.ready.size > 0 && !this.closed) {
      const streams: SileroVadStream[] = [];
      for (const stream of this.ready) {
        streams.push(stream);
        this.ready.delete(stream);
        if (streams.length === this.maxBatch) break;
      }
      metrics.queueDepth.set({ stage: 'vad' }, this.ready.size);
      const inputs = streams.map((s) => s.peekInput());
      const states = streams.map((s) => s.state);

      const started = process.hrtime.bigint();
      let result;
      try {
        result = await this.model.run(inputs, states);
      } catch (cause) {
        this.log.error({ err: cause, batch: streams.length }, 'vad inference failed');
        const err = new UndertoneError(ERROR_CODES.internal, 'VAD inference failed', { cause });
        for (const stream of streams) stream.fail(err);
        continue;
      }
      metrics.vadInferenceSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      metrics.vadBatchSize.observe(streams.length);

      streams.forEach((stream, b) => {
        stream.complete(result.probabilities[b]!, result.states[b]!);
        // A stream with more windows goes to the back of the line: round robin across streams.
        if (stream.hasWindows) this.ready.add(stream);
      });
    }
  }
}

/** One stream; create it with `SileroVadEngine.createStream`. */
export class SileroVadStream implements VadStream {
  private readonly subject = new Subject<VadEvent>();
  readonly events: Observable<VadEvent> = this.subject.asObservable();
  /** Recurrent state after the last processed window ([2, 128]). */
  state: Float32Array = new Float32Array(SILERO_STATE_SIZE);
  /** Full windows waiting for inference, each with its 64-sample context in front. */
  private readonly windows: Float32Array[] = [];
  /** Samples of the window being filled, after the context. */
  private filling = new Float32Array(SILERO_INPUT_SAMPLES);
  private fillingLength = 0;
  private pushedSamples = 0;
  private drainWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly engine: SileroVadEngine,
    private readonly segmenter: Segmenter,
    private readonly log: Logger,
  ) {}

  get positionMs(): number {
    return this.pushedSamples / 16;
  }

  get hasWindows(): boolean {
    return this.windows.length > 0;
  }

  /** Copy of the recurrent state, for checks (it must stay finite). */
  get recurrentState(): Float32Array {
    return this.state.slice();
  }

  push(samples: Float32Array): void {
    if (this.closed) return;
    this.pushedSamples += samples.length;
    let at = 0;
    while (at < samples.length) {
      const take = Math.min(SILERO_WINDOW_SAMPLES - this.fillingLength, samples.length - at);
      sanitizeInto(this.filling, SILERO_CONTEXT_SAMPLES + this.fillingLength, samples, at, take);
      this.fillingLength += take;
      at += take;
      if (this.fillingLength === SILERO_WINDOW_SAMPLES) this.completeWindow();
    }
  }

  async flush(): Promise<void> {
    if (this.closed) return;
    if (this.windows.length > 0) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
    if (this.closed) return;
    const tail = this.filling.slice(
      SILERO_CONTEXT_SAMPLES,
      SILERO_CONTEXT_SAMPLES + this.fillingLength,
    );
    for (const event of this.segmenter.flush(tail)) this.subject.next(event);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.windows.length = 0;
    this.engine.forget(this);
    this.releaseWaiters();
    this.subject.complete();
  }

  /** The oldest waiting window (engine use). */
  peekInput(): Float32Array {
    return this.windows[0]!;
  }

  /** Takes the result of the oldest window (engine use). */
  complete(probability: number, nextState: Float32Array): void {
    const input = this.windows.shift();
    if (!input || this.closed) return;
    this.state = nextState;
    const events = this.segmenter.push(input.subarray(SILERO_CONTEXT_SAMPLES), probability);
    for (const event of events) this.subject.next(event);
    if (this.windows.length === 0) this.releaseWaiters();
  }

  /** Inference failed for this stream's window: the stream errors and stops. */
  fail(err: UndertoneError): void {
    if (this.closed) return;
    this.closed = true;
    this.windows.length = 0;
    this.engine.forget(this);
    this.releaseWaiters();
    this.subject.error(err);
  }

  private completeWindow(): void {
    const full = this.filling;
    this.windows.push(full);
    this.filling = new Float32Array(SILERO_INPUT_SAMPLES);
    // The next input starts with the last 64 samples of this window.
    this.filling.set(full.subarray(SILERO_INPUT_SAMPLES - SILERO_CONTEXT_SAMPLES));
    this.fillingLength = 0;
    if (this.windows.length === LAG_WARN_WINDOWS)
      this.engine.reportLag(this.windows.length, this.log);
    this.engine.wake(this);
  }

  private releaseWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** Copies samples, turning NaN to 0 and clamping +-Inf and out-of-range values to [-1, 1]. */
function sanitizeInto(
  into: Float32Array,
  offset: number,
  from: Float32Array,
  start: number,
  count: number,
): void {
  for (let i = 0; i < count; i++) {
    const v = from[start + i]!;
    into[offset + i] = v !== v ? 0 : v > 1 ? 1 : v < -1 ? -1 : v;
  }
}
