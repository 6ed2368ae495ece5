import { createServer, type Server } from 'node:http';
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UndertoneError } from '../../src/errors/undertone-error.js';
import { findManifestModel } from '../../src/models/manifest.js';
import { pullModel, type PullProgress } from '../../src/models/pull-model.js';
import { formatProgress } from '../../src/models/progress-bar.js';

/** Deterministic content per hub path. */
const contentFor = (path: string) =>
  Buffer.from(
    Array.from({ length: 4096 + path.length * 37 }, (_, i) => (i * 31 + path.length) & 0xff),
  );

/** A loopback stand-in for the Hugging Face hub's `resolve` endpoint, with Range support. */
function hubTestDouble(requests: { url: string; range?: string }[]): Server {
  return createServer((req, res) => {
    requests.push({ url: req.url!, range: req.headers.range });
    const body = contentFor(req.url!);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      res.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
}

async function rejection(promise: Promise<unknown>): Promise<UndertoneError> {
  try {
    await promise;
  } catch (err) {
    return err as UndertoneError;
  }
  throw new Error('expected a rejection');
}

const listen = (server: Server | TcpServer) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

describe('pullModel', () => {
  let dir: string;
  let hub: Server;
  let hubUrl: string;
  const requests: { url: string; range?: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'undertone-pull-'));
    hub = hubTestDouble(requests);
    hubUrl = `http://127.0.0.1:${await listen(hub)}`;
  });
  afterAll(async () => {
    hub.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('downloads every file of the manifest entry from <base>/<repo>/resolve/<rev>/<file>', async () => {
    const progress: PullProgress[] = [];
    const folder = await pullModel('mms-tts-eng', {
      dir,
      baseUrl: hubUrl,
      onProgress: (p) => progress.push(p),
    });
    const model = findManifestModel('mms-tts-eng')!;
    for (const file of model.files) {
      const url = `/Xenova/mms-tts-eng/resolve/main/${file}`;
      expect(requests.some((r) => r.url === url)).toBe(true);
      expect(await readFile(join(folder, file))).toEqual(contentFor(url));
    }
    const done = progress.filter((p) => p.done);
    expect(done).toHaveLength(model.files.length);
    expect(done[0]!.receivedBytes).toBe(done[0]!.totalBytes);
    expect(formatProgress(done[0]!)).toMatch(/100% .*\/s$/);
  });

  it('resumes a .partial file with a Range request', async () => {
    const model = findManifestModel('whisper-tiny.en')!;
    const file = 'onnx/encoder_model.onnx';
    const url = `/onnx-community/whisper-tiny.en/resolve/main/${file}`;
    await mkdir(join(dir, model.id, 'onnx'), { recursive: true });
    await writeFile(join(dir, model.id, `${file}.partial`), contentFor(url).subarray(0, 1000));
    await pullModel(model.id, { dir, baseUrl: hubUrl });
    expect(requests.find((r) => r.url === url)?.range).toBe('bytes=1000-');
    expect(await readFile(join(dir, model.id, file))).toEqual(contentFor(url));
  });

  it('fails fast with a clear message when nothing listens at the hub address', async () => {
    const closed = createTcpServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const err = await rejection(
      pullModel('whisper-base.en', { dir, baseUrl: `http://127.0.0.1:${port}` }),
    );
    expect(err.code).toBe('UT_ERR_MODEL_DOWNLOAD');
    expect(err.category).toBe('network');
    expect(err.message).toContain('no network reaches');
    expect(err.message).toContain('--models fixtures');
  });

  it('gives up when the hub accepts the connection but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    const port = await listen(silent);
    try {
      const err = await rejection(
        pullModel('whisper-base.en', {
          dir,
          baseUrl: `http://127.0.0.1:${port}`,
          connectTimeoutMs: 300,
        }),
      );
      expect(err.code).toBe('UT_ERR_MODEL_DOWNLOAD');
      expect(err.message).toContain('timed out');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  it('gives up on a download that stalls and keeps the bytes for a resume', async () => {
    const stalling = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': 10_000 });
      res.write(Buffer.alloc(3000, 7));
    });
    const port = await listen(stalling);
    try {
      const err = await rejection(
        pullModel('whisper-base.en', {
          dir,
          baseUrl: `http://127.0.0.1:${port}`,
          stallTimeoutMs: 300,
        }),
      );
      expect(err.code).toBe('UT_ERR_MODEL_DOWNLOAD');
      expect(err.message).toContain('again to resume');
      expect((await readFile(join(dir, 'whisper-base.en', 'config.json.partial'))).length).toBe(
        3000,
      );
    } finally {
      stalling.closeAllConnections();
      stalling.close();
    }
  });

  it('reports an HTTP error status with a coded error', async () => {
    const notFound = createServer((_req, res) => res.writeHead(404).end());
    const port = await listen(notFound);
    try {
      const err = await rejection(
        pullModel('whisper-base.en', { dir, baseUrl: `http://127.0.0.1:${port}` }),
      );
      expect(err.code).toBe('UT_ERR_MODEL_DOWNLOAD');
      expect(err.message).toContain('HTTP 404');
    } finally {
      notFound.close();
    }
  });

  it('generates fixture ids instead of downloading them', async () => {
    const folder = await pullModel('mms-tts-tiny-random', { fixturesDir: join(dir, 'fixtures') });
    expect(folder).toBe(join(dir, 'fixtures', 'mms-tts-tiny-random'));
  });

  it('rejects an unknown id', async () => {
    expect((await rejection(pullModel('nope', { dir }))).code).toBe('UT_ERR_UNKNOWN_MODEL');
  });
});
