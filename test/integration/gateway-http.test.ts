/**
 * The HTTP side on a real server: health, readiness while engines load, metrics, the demo page,
 * the transcribe route's body limit, and JSON 404s.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readiness } from '../../src/runtime/readiness.js';
import type { Engines } from '../../src/pipeline/types.js';
import { startTestServer } from '../gateway/test-server.js';
import { unusedEnginesTestDouble } from '../gateway/session-test-double.js';
import { WsTestClient } from '../gateway/ws-test-client.js';

describe('health and readiness', () => {
  it('is healthy at once and ready only once the engines are in', async () => {
    let loaded!: (engines: Engines) => void;
    const engines = new Promise<Engines>((resolve) => (loaded = resolve));
    const readiness = new Readiness();
    readiness.report({ component: 'asr', state: 'loading', detail: 'whisper-base.en' });
    const t = await startTestServer({}, { engines, readiness });

    expect((await fetch(`${t.server.url}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${t.server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ ready: false, loading: ['asr'] });

    const early = await WsTestClient.connect(t.server.wsUrl);
    early.sendJson({
      type: 'session.start',
      version: 1,
      audio: { codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20 },
    });
    expect(await early.next()).toMatchObject({ code: 'UT_ERR_OVERLOADED', recoverable: true });

    readiness.report({ component: 'asr', state: 'ready' });
    loaded(unusedEnginesTestDouble);
    await engines;
    const ready = await fetch(`${t.server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, loading: [] });
    await early.start();
    await t.server.close();
  });

  it('reports engines that failed to load', async () => {
    const engines = Promise.reject(new Error('UT_ERR_MODEL_MISSING: run undertone models pull'));
    const t = await startTestServer({}, { engines });
    await engines.catch(() => {});
    const res = await fetch(`${t.server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ failed: ['engines'] });
    await t.server.close();
  });
});

describe('metrics', () => {
  it('serves Prometheus text with error counts by code and event-loop lag', async () => {
    const t = await startTestServer();
    const c = await WsTestClient.connect(t.server.wsUrl);
    c.sendText('not json');
    await c.next();
    c.close();

    const res = await fetch(`${t.server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/undertone_errors_total\{code="UT_ERR_BAD_JSON"\} [1-9]/);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('undertone_sessions_active');
    await t.server.close();
  });
});

describe('routes', () => {
  it('answers unknown paths with a JSON 404', async () => {
    const t = await startTestServer();
    const res = await fetch(`${t.server.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'UT_ERR_NOT_FOUND' } });
    await t.server.close();
  });

  it('serves the demo folder with content types and nothing outside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'undertone-demo-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>demo</title>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1);');
    writeFileSync(join(dir, 'style.css'), 'body{}');
    const t = await startTestServer({}, { demoDir: dir });

    const index = await fetch(`${t.server.url}/`);
    expect([index.status, index.headers.get('content-type')]).toEqual([
      200,
      'text/html; charset=utf-8',
    ]);
    expect(await index.text()).toContain('<title>demo</title>');
    const js = await fetch(`${t.server.url}/assets/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const css = await fetch(`${t.server.url}/style.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');

    const escaped = await rawGet(t.server.port, '/../../../../etc/passwd');
    expect(escaped.status).toBe(404);
    const encoded = await rawGet(t.server.port, '/%2e%2e/%2e%2e/etc/passwd');
    expect(encoded.status).toBe(404);
    await t.server.close();
  });
});

describe('POST /v1/transcribe', () => {
  it('answers 501 where the route is not built in', async () => {
    const t = await startTestServer({}, { transcribe: null });
    const res = await fetch(`${t.server.url}/v1/transcribe`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(501);
    await t.server.close();
  });

  it('hands the body to the route and refuses bodies over maxBodyBytes with 413', async () => {
    const bodies: number[] = [];
    const t = await startTestServer(
      { 'server.maxBodyBytes': 1000 },
      {
        transcribe: async (_req, res, body) => {
          bodies.push(body.byteLength);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":""}');
        },
      },
    );

    const ok = await fetch(`${t.server.url}/v1/transcribe`, {
      method: 'POST',
      body: new Uint8Array(1000),
    });
    expect(ok.status).toBe(200);
    const declared = await fetch(`${t.server.url}/v1/transcribe`, {
      method: 'POST',
      body: new Uint8Array(1001),
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { code: 'UT_ERR_BODY_TOO_LARGE' } });

    const chunked = await fetch(`${t.server.url}/v1/transcribe`, {
      method: 'POST',
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(400));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(bodies).toEqual([1000]);

    const get = await fetch(`${t.server.url}/v1/transcribe`);
    expect(get.status).toBe(405);
    await t.server.close();
  });

  it('asks the REST jobs for an API key when auth is required, and leaves health open', async () => {
    const t = await startTestServer(
      { 'server.authRequired': true, 'server.apiKeys': 'secretkey1' },
      {
        transcribe: async (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":""}');
        },
      },
    );
    const post = (headers: Record<string, string>) =>
      fetch(`${t.server.url}/v1/transcribe`, { method: 'POST', body: new Uint8Array(10), headers });

    const none = await post({});
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'UT_ERR_UNAUTHORIZED' } });
    expect((await post({ 'x-api-key': 'wrongkey99' })).status).toBe(401);
    expect((await post({ 'x-api-key': 'secretkey1' })).status).toBe(200);
    expect((await post({ authorization: 'Bearer secretkey1' })).status).toBe(200);
    expect((await fetch(`${t.server.url}/healthz`)).status).toBe(200);
    await t.server.close();
  });
});

/** A GET with the path sent as is (fetch would normalise `..` away). */
function rawGet(port: number, path: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('transport', () => {
  it('stops boot with UT_ERR_TRANSPORT_UNAVAILABLE when uws is asked for and not installed', async () => {
    await expect(startTestServer({ 'server.transport': 'uws' })).rejects.toMatchObject({
      code: 'UT_ERR_TRANSPORT_UNAVAILABLE',
      message: expect.stringContaining('uWebSockets.js is not installed'),
    });
  });
});
