/**
 * Entry of the Whisper worker thread (started by `whisper-worker.ts`): loads the local engine
 * once with the options in `workerData`, then decodes the batches it is sent, one after another
 * (the engine serialises them), and answers each with per-request results or coded errors.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AsrBatchRequest, AsrEngine } from '../types.js';
import { createWhisperLocalAsr } from './whisper-local.js';
import {
  toWireError,
  type FromWorker,
  type ToWorker,
  type WhisperWorkerData,
  type WireOutcome,
} from './whisper-worker-messages.js';

const port = parentPort;
if (!port) throw new Error('whisper-worker-thread runs only as a worker thread');

const send = (message: FromWorker) => port.postMessage(message);

/** Abort controllers of the batches received and not yet answered, by batch id. */
const batches = new Map<number, AbortController[]>();

async function decode(engine: AsrEngine, id: number, requests: AsrBatchRequest[]): Promise<void> {
  try {
    const results = await engine.transcribeBatch!(requests);
    const outcomes = results.map(
      (r): WireOutcome =>
        r instanceof Error ? { ok: false, error: toWireError(r) } : { ok: true, result: r },
    );
    send({ type: 'done', id, outcomes });
  } catch (err) {
    send({ type: 'failed', id, error: toWireError(err) });
  } finally {
    batches.delete(id);
  }
}

async function main(): Promise<void> {
  const { options } = workerData as WhisperWorkerData;
  let engine: AsrEngine;
  try {
    engine = await createWhisperLocalAsr(options);
  } catch (err) {
    send({ type: 'load-failed', error: toWireError(err) });
    port!.close();
    return;
  }

  port!.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'batch': {
        const controllers = message.requests.map(() => new AbortController());
        batches.set(message.id, controllers);
        const requests = message.requests.map((r, i) => ({
          audio: r.audio,
          options: { ...r.options, signal: controllers[i]!.signal },
        }));
        void decode(engine, message.id, requests);
        break;
      }
      case 'cancel':
        // The engine checks each signal when the batch's turn comes: a request cancelled before
        // then is dropped; one already decoding runs to its end.
        batches.get(message.id)?.[message.index]?.abort(new Error('cancelled by caller'));
        break;
      case 'crash':
        setImmediate(() => {
          throw new Error('whisper worker crash requested');
        });
        break;
    }
  });
  send({ type: 'ready' });
}

void main();
