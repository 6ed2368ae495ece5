/**
 * What the local LLM engines (llama.cpp, transformers.js) share around their token callbacks:
 * turning a run that pushes text into an abortable stream, and ending a failed run with a coded
 * error.
 */
import { UndertoneError } from '../../errors/undertone-error.js';
import type { Logger } from '../../log/logger.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import { linkedAbort, PushQueue } from '../push-queue.js';

/** One generation in flight: its abort controller and the promise that settles when it stopped. */
export interface GenerationRun {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * The streaming side of a local engine's `generate`: starts `run` with a signal linked to `parent`
 * and yields what it pushes. Aborting `parent` (or leaving the loop early) aborts the run; pieces
 * queued before the abort was seen are dropped, so nothing is yielded after it. Returns only once
 * `run` has settled. `onStart` sees the run as soon as it starts (to abort it on close).
 */
export async function* streamGeneration(
  parent: AbortSignal | undefined,
  run: (signal: AbortSignal, queue: PushQueue<string>) => Promise<void>,
  onStart?: (started: GenerationRun) => void,
): AsyncGenerator<string> {
  const { controller, dispose } = linkedAbort(parent);
  const queue = new PushQueue<string>();
  const done = run(controller.signal, queue);
  onStart?.({ controller, done });
  try {
    for await (const piece of queue) {
      // Pieces queued before the abort was seen are dropped: nothing is yielded after it.
      if (controller.signal.aborted) break;
      yield piece;
    }
  } finally {
    controller.abort();
    await done;
    dispose();
  }
}

/**
 * Ends `queue` after a run threw `err`: quietly when `signal` was aborted (the error is the
 * abort's), else with `UT_ERR_LLM_FAILED` (`message`), logged as a warning.
 * @returns whether the run had been aborted
 */
export function endFailedGeneration(
  queue: PushQueue<string>,
  signal: AbortSignal,
  err: unknown,
  log: Logger,
  message: string,
): boolean {
  if (signal.aborted) {
    queue.end();
    return true;
  }
  log.warn({ err }, 'llm generation failed');
  queue.end(
    new UndertoneError(ERROR_CODES.llmFailed, message, { category: 'upstream', cause: err }),
  );
  return false;
}
