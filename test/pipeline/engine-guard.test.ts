import { describe, expect, it } from 'vitest';
import { CancelledError, iterateGuarded } from '../../src/pipeline/engine-guard.js';

const codes = { failed: 'UT_ERR_LLM_FAILED', timeout: 'UT_ERR_LLM_TIMEOUT' };

async function* items(values: string[], delayMs = 0, fail?: Error) {
  for (const v of values) {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    yield v;
  }
  if (fail) throw fail;
}

describe('iterateGuarded', () => {
  it('passes every item through', async () => {
    const got: string[] = [];
    await iterateGuarded(
      items(['a', 'b']),
      { signal: new AbortController().signal, timeoutMs: 100, codes, what: 'LLM' },
      (v) => void got.push(v),
    );
    expect(got).toEqual(['a', 'b']);
  });

  it('turns an engine failure into the failed code', async () => {
    const run = iterateGuarded(
      items(['a'], 0, new Error('boom')),
      { signal: new AbortController().signal, timeoutMs: 100, codes, what: 'LLM' },
      () => undefined,
    );
    await expect(run).rejects.toMatchObject({ code: 'UT_ERR_LLM_FAILED', recoverable: true });
  });

  it('times out on an engine that stops yielding', async () => {
    const hang = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<string>>(() => undefined),
      }),
    };
    const run = iterateGuarded(
      hang,
      { signal: new AbortController().signal, timeoutMs: 30, codes, what: 'LLM' },
      () => undefined,
    );
    await expect(run).rejects.toMatchObject({ code: 'UT_ERR_LLM_TIMEOUT' });
  });

  it('rejects with CancelledError when the caller aborts, even while the engine hangs', async () => {
    const abort = new AbortController();
    const hang = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<string>>(() => undefined),
      }),
    };
    const run = iterateGuarded(
      hang,
      { signal: abort.signal, timeoutMs: 10_000, codes, what: 'LLM' },
      () => undefined,
    );
    setTimeout(() => abort.abort(), 10);
    await expect(run).rejects.toBeInstanceOf(CancelledError);
  });
});
