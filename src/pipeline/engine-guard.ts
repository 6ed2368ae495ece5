/**
 * Runs an engine's async iterable under a deadline and an AbortSignal. An engine that throws
 * becomes an `UndertoneError` with the stage's `failed` code; one that yields nothing for
 * `timeoutMs` is aborted and becomes the `timeout` code. Both are recoverable: the turn fails,
 * the session goes on.
 */
import { UndertoneError } from '../errors/undertone-error.js';

export interface GuardCodes {
  failed: string;
  timeout: string;
}

/** Thrown (and swallowed by callers) when the caller's own signal aborted the iteration. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/**
 * Iterates `source` while each next item arrives within `timeoutMs`. `onItem` runs for every
 * item. Rejects with `CancelledError` when `signal` aborts, else with a coded error.
 */
export async function iterateGuarded<T>(
  source: AsyncIterable<T>,
  options: { signal: AbortSignal; timeoutMs: number; codes: GuardCodes; what: string },
  onItem: (item: T) => void | Promise<void>,
): Promise<void> {
  const { signal, timeoutMs, codes, what } = options;
  if (signal.aborted) throw new CancelledError();

  let iterator: AsyncIterator<T>;
  try {
    iterator = source[Symbol.asyncIterator]();
  } catch (cause) {
    throw upstream(codes.failed, `${what} failed to start`, cause);
  }

  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    onAbort = () => reject(new CancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // The race loser may reject later; nobody waits on it.
  stop.catch(() => undefined);

  try {
    for (;;) {
      const deadline = new Promise<never>((_, reject) => {
        const message = `${what} timed out after ${timeoutMs} ms`;
        const timedOut = (): void => reject(upstream(codes.timeout, message));
        timer = setTimeout(timedOut, timeoutMs);
      });
      deadline.catch(() => undefined);

      let step: IteratorResult<T>;
      try {
        step = await Promise.race([iterator.next(), deadline, stop]);
      } catch (err) {
        if (err instanceof CancelledError || err instanceof UndertoneError) throw err;
        throw upstream(codes.failed, `${what} failed`, err);
      } finally {
        clearTimeout(timer);
      }
      if (step.done) return;
      await onItem(step.value);
      if (signal.aborted) throw new CancelledError();
    }
  } catch (err) {
    // Let the engine release what it holds; a hung engine must not block us, so no await.
    void Promise.resolve(iterator.return?.()).catch(() => undefined);
    throw err;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function upstream(code: string, message: string, cause?: unknown): UndertoneError {
  return new UndertoneError(code, message, { category: 'upstream', recoverable: true, cause });
}
