/**
 * The messages between `whisper-worker.ts` (main thread) and `whisper-worker-thread.ts` (the
 * worker), and the error form that crosses between them: a structured clone keeps an Error's
 * message but drops `code` and `category`, so errors travel as plain objects and are rebuilt as
 * the same coded `UndertoneError` on the other side.
 */
import {
  UndertoneError,
  isUndertoneError,
  type ErrorCategory,
} from '../../errors/undertone-error.js';
import type { AsrOptions, AsrResult } from '../types.js';
import type { WhisperLocalOptions } from './whisper-local.js';

/** An error as plain data. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  category?: ErrorCategory;
  recoverable?: boolean;
  closeCode?: number;
  cause?: WireError;
}

/** `workerData` of the worker: the options it loads the model with. */
export interface WhisperWorkerData {
  options: WhisperLocalOptions;
}

/** One request as sent: the audio is a copy whose buffer is transferred; no signal. */
export interface WireRequest {
  audio: Float32Array;
  options: Omit<AsrOptions, 'signal'>;
}

export type ToWorker =
  | { type: 'batch'; id: number; requests: WireRequest[] }
  /** Drops request `index` of batch `id` if its decode has not started. */
  | { type: 'cancel'; id: number; index: number }
  /** Throws an uncaught error in the worker, for the crash test. */
  | { type: 'crash' };

export type WireOutcome = { ok: true; result: AsrResult } | { ok: false; error: WireError };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'load-failed'; error: WireError }
  | { type: 'done'; id: number; outcomes: WireOutcome[] }
  /** The whole batch failed (the engine threw rather than returning per-request errors). */
  | { type: 'failed'; id: number; error: WireError };

/** Plain data for any thrown value, keeping the coded fields and the cause chain (depth 4). */
export function toWireError(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const wire: WireError = { name: err.name, message: err.message, stack: err.stack };
  if (isUndertoneError(err)) {
    wire.code = err.code;
    wire.category = err.category;
    wire.recoverable = err.recoverable;
    if (err.closeCode !== undefined) wire.closeCode = err.closeCode;
  }
  if (err.cause !== undefined && depth < 4) wire.cause = toWireError(err.cause, depth + 1);
  return wire;
}

/** The error `toWireError` described: an `UndertoneError` where it had a code. */
export function fromWireError(wire: WireError): Error {
  const cause = wire.cause ? fromWireError(wire.cause) : undefined;
  const error =
    wire.code !== undefined
      ? new UndertoneError(wire.code, wire.message, {
          category: wire.category,
          recoverable: wire.recoverable,
          closeCode: wire.closeCode,
          cause,
        })
      : new Error(wire.message, cause === undefined ? undefined : { cause });
  if (wire.code === undefined) error.name = wire.name;
  if (wire.stack) error.stack = wire.stack;
  return error;
}
