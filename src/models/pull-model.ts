/**
 * Downloads a manifest model's files from the Hugging Face hub into `<dir>/<id>/`, resuming from
 * `<file>.partial`, and fails fast with a coded error when no network reaches the hub (this
 * project is often run where none does: `--models fixtures` is the offline way).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UndertoneError } from '../errors/undertone-error.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import { ensureFixtures } from './fixtures/index.js';
import { findManifestFixture, findManifestModel, hubFileUrl, loadManifest } from './manifest.js';
import { isModelPresent } from './resolve-model.js';

export interface PullProgress {
  modelId: string;
  file: string;
  receivedBytes: number;
  /** Undefined when the server sends no length. */
  totalBytes?: number;
  bytesPerSecond: number;
  done: boolean;
}

export interface PullOptions {
  /** Models folder; the model goes to `<dir>/<id>/`. Default `models/cache` (cwd-relative). */
  dir?: string;
  /** Folder for fixture ids (which are generated, not downloaded). Default `models/fixtures`. */
  fixturesDir?: string;
  onProgress?: (progress: PullProgress) => void;
  /** Hub base URL; default the manifest's `https://huggingface.co`. Tests point it at loopback. */
  baseUrl?: string;
  /** Longest wait for response headers, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Longest silence while a body streams, in ms. Default 30000. */
  stallTimeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_STALL_TIMEOUT_MS = 30_000;
const PROGRESS_INTERVAL_MS = 200;

function offlineError(
  modelId: string,
  url: string,
  reason: string,
  cause: unknown,
): UndertoneError {
  const host = new URL(url).origin;
  return new UndertoneError(
    ERROR_CODES.modelDownload,
    `Cannot download ${modelId}: no network reaches ${host} (${reason}). ` +
      'Run offline with the generated test models: `undertone serve --models fixtures` ' +
      '(or `undertone models fixtures`), or copy the model files into the models folder by hand.',
    { category: 'network', recoverable: false, cause },
  );
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}

async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

async function downloadFile(
  modelId: string,
  url: string,
  target: string,
  o: PullOptions,
): Promise<void> {
  const partial = `${target}.partial`;
  await mkdir(dirname(target), { recursive: true });
  const offset = await sizeOf(partial);

  // One controller aborts the request: the connect timer until headers arrive, then the stall
  // timer while the body streams (a whole-request timeout would cut large files short).
  const request = new AbortController();
  const signal = o.signal ? AbortSignal.any([request.signal, o.signal]) : request.signal;
  const timedOut = () => Object.assign(new Error('timed out'), { name: 'TimeoutError' });
  const connectTimer = setTimeout(
    () => request.abort(timedOut()),
    o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  );
  let response: Response;
  try {
    response = await fetch(url, {
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      redirect: 'follow',
      signal,
    });
  } catch (err) {
    if (o.signal?.aborted) throw err;
    throw offlineError(modelId, url, describe(err), err);
  } finally {
    clearTimeout(connectTimer);
  }
  if (response.status === 416 && offset > 0) {
    // The partial file already holds everything the server has.
    await response.body?.cancel();
    await rename(partial, target);
    return;
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new UndertoneError(
      ERROR_CODES.modelDownload,
      `Cannot download ${modelId}: ${url} answered HTTP ${response.status}.`,
      {
        category: response.status >= 500 || response.status === 429 ? 'upstream' : 'bad-input',
        recoverable: false,
      },
    );
  }

  const resumed = response.status === 206;
  const start = resumed ? offset : 0;
  const length = Number(response.headers.get('content-length') ?? NaN);
  const totalBytes = Number.isFinite(length) ? start + length : undefined;
  const out = createWriteStream(partial, { flags: resumed ? 'a' : 'w' });
  const begunMs = Date.now();
  let received = start;
  let lastReportMs = 0;
  const report = (done: boolean) => {
    const elapsedS = Math.max((Date.now() - begunMs) / 1000, 1e-3);
    o.onProgress?.({
      modelId,
      file: target,
      receivedBytes: received,
      totalBytes,
      bytesPerSecond: (received - start) / elapsedS,
      done,
    });
  };

  let stallTimer: NodeJS.Timeout | undefined;
  const armStall = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(
      () => request.abort(new Error('stalled')),
      o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    );
  };
  try {
    armStall();
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      armStall();
      received += value.byteLength;
      if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
      if (Date.now() - lastReportMs >= PROGRESS_INTERVAL_MS) {
        lastReportMs = Date.now();
        report(false);
      }
    }
  } catch (err) {
    out.destroy();
    if (o.signal?.aborted) throw err;
    throw offlineError(
      modelId,
      url,
      `download ${describe(err)} after ${received} bytes; run the same command again to resume`,
      err,
    );
  } finally {
    clearTimeout(stallTimer);
  }
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  if (totalBytes !== undefined && received !== totalBytes) {
    throw offlineError(
      modelId,
      url,
      `got ${received} of ${totalBytes} bytes; run the same command again to resume`,
      undefined,
    );
  }
  await rename(partial, target);
  report(true);
}

/**
 * Downloads one model of the manifest (every file not already present) and returns its folder.
 * Fixture ids are generated instead of downloaded. Never hangs: no answer within
 * `connectTimeoutMs` (5 s) is a `UT_ERR_MODEL_DOWNLOAD` error that points to `--models fixtures`.
 */
export async function pullModel(id: string, options: PullOptions = {}): Promise<string> {
  if (findManifestFixture(id)) {
    return (await ensureFixtures(resolve(options.fixturesDir ?? 'models/fixtures'), [id]))[id]!;
  }
  const model = findManifestModel(id);
  if (!model) {
    const known = [
      ...loadManifest().models.map((m) => m.id),
      ...loadManifest().fixtures.map((f) => f.id),
    ];
    throw new UndertoneError(
      ERROR_CODES.unknownModel,
      `Unknown model "${id}" (known: ${known.join(', ')}).`,
      {
        category: 'bad-input',
        recoverable: false,
      },
    );
  }
  const dir = resolve(options.dir ?? 'models/cache');
  const folder = join(dir, model.id);
  if (model.bundled || isModelPresent(dir, model)) return folder;

  for (const file of model.files) {
    const target = join(folder, file);
    if ((await sizeOf(target)) > 0 && (await sizeOf(`${target}.partial`)) === 0) continue;
    await rm(target, { force: true });
    await downloadFile(model.id, hubFileUrl(model, file, options.baseUrl), target, options);
  }
  return folder;
}
