/**
 * Silero VAD v5/v6 on the project's one onnxruntime-node: one session per process, run on a batch
 * of windows from many streams at once.
 *
 * Model I/O (checked with `session.inputNames` / `inputMetadata`): `input` f32 [B, 576] (the 64
 * last samples of the stream's previous window, then 512 new ones), `state` f32 [2, B, 128],
 * `sr` int64 scalar (16000) -> `output` f32 [B, 1] (speech probability), `stateN` [2, B, 128].
 * Without the 64-sample context v6 outputs ~0.001 on clear speech (measured on JFK; see
 * `test/vad/silero-model.test.ts`).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { ERROR_CODES } from '../protocol/error-codes.js';
import { UndertoneError } from '../errors/undertone-error.js';

export type SileroModelName = 'silero-v5' | 'silero-v6';

/** Sample rate the model runs at. */
export const SILERO_SAMPLE_RATE_HZ = 16_000;
/** New samples per window at 16 kHz (32 ms). */
export const SILERO_WINDOW_SAMPLES = 512;
/** Samples of the previous window prefixed to each input. */
export const SILERO_CONTEXT_SAMPLES = 64;
/** Samples of one model input row. */
export const SILERO_INPUT_SAMPLES = SILERO_WINDOW_SAMPLES + SILERO_CONTEXT_SAMPLES;
/** Floats of one stream's recurrent state (2 x 128). */
export const SILERO_STATE_SIZE = 256;
const STATE_WIDTH = 128;

const FILES: Record<SileroModelName, string> = {
  'silero-v5': 'silero_vad_v5.onnx',
  'silero-v6': 'silero_vad_v6.onnx',
};

/** Absolute path of the ONNX file shipped in `@ricky0123/vad-web/dist`. */
export function sileroModelPath(model: SileroModelName): string {
  const require = createRequire(import.meta.url);
  const dist = join(dirname(require.resolve('@ricky0123/vad-web/package.json')), 'dist');
  return join(dist, FILES[model]);
}

export interface SileroModelOptions {
  model: SileroModelName;
  /** Intra-op threads of the session; 1 avoids ORT's spin-waiting pool (default 1). */
  threads?: number;
}

/** Result of one batched run; `states` holds B per-stream states of 256 floats each. */
export interface SileroBatchResult {
  probabilities: Float32Array;
  states: Float32Array[];
}

/** One loaded Silero session. `run` may be called again only after the previous one settled. */
export class SileroModel {
  private readonly sr = new ort.Tensor('int64', BigInt64Array.from([16_000n]), []);

  private constructor(
    readonly name: SileroModelName,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(options: SileroModelOptions): Promise<SileroModel> {
    const path = sileroModelPath(options.model);
    if (!existsSync(path)) {
      throw new UndertoneError(ERROR_CODES.modelMissing, `Silero model not found at ${path}`, {
        category: 'internal',
        recoverable: false,
      });
    }
    const threads = options.threads ?? 1;
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new SileroModel(options.model, session);
  }

  /**
   * Runs B windows at once. `inputs[b]` is one row: 576 samples (context + window), or any
   * other width for experiments (all rows must share it). `states[b]` is that stream's state.
   */
  async run(inputs: Float32Array[], states: Float32Array[]): Promise<SileroBatchResult> {
    const batch = inputs.length;
    const width = inputs[0]?.length ?? 0;
    const input = new Float32Array(batch * width);
    const state = new Float32Array(batch * SILERO_STATE_SIZE);
    for (let b = 0; b < batch; b++) {
      input.set(inputs[b]!, b * width);
      packState(state, states[b]!, b, batch);
    }

    const out = await this.session.run({
      input: new ort.Tensor('float32', input, [batch, width]),
      state: new ort.Tensor('float32', state, [2, batch, STATE_WIDTH]),
      sr: this.sr,
    });
    const probabilities = Float32Array.from(out.output!.data as Float32Array);
    const next = out.stateN!.data as Float32Array;
    const nextStates = Array.from({ length: batch }, (_, b) => unpackState(next, b, batch));
    return { probabilities, states: nextStates };
  }

  /** Input names the session declares (`input`, `state`, `sr`). */
  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  /** Output names the session declares (`output`, `stateN`). */
  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Writes one stream's [2, 128] state into row `b` of a [2, B, 128] tensor. */
function packState(into: Float32Array, one: Float32Array, b: number, batch: number): void {
  for (let layer = 0; layer < 2; layer++) {
    const from = one.subarray(layer * STATE_WIDTH, (layer + 1) * STATE_WIDTH);
    into.set(from, (layer * batch + b) * STATE_WIDTH);
  }
}

function unpackState(from: Float32Array, b: number, batch: number): Float32Array {
  const one = new Float32Array(SILERO_STATE_SIZE);
  for (let layer = 0; layer < 2; layer++) {
    const at = (layer * batch + b) * STATE_WIDTH;
    one.set(from.subarray(at, at + STATE_WIDTH), layer * STATE_WIDTH);
  }
  return one;
}
