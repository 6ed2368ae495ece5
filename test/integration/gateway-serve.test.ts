import { createServer, type AddressInfo } from 'node:net';
/**
 * `undertone serve` in process: bad command lines and settings exit 2 with one line, a missing
 * model exits 1 at once with the command that gets it, and a fixtures boot serves a real session
 * (generated tiny models, real pipeline) until it is stopped.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCommand } from '../../src/cli/serve.js';
import { main } from '../../src/cli/main.js';
import { encodeFrame, FRAME_KIND } from '../../src/protocol/frame-header.js';
import { encodeWav } from '../../src/audio/wav.js';
import type { RunningServer } from '../../src/gateway/server.js';
import { WsTestClient } from '../gateway/ws-test-client.js';

function captureStderr(): { text(): string } {
  let text = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += chunk.toString();
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  return { text: () => text };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('command line', () => {
  it.each([
    [['--port', 'abc'], 'server.port'],
    [['--mode', 'chat'], 'session.mode'],
    [['--log-level', 'loud'], 'log.level'],
    [['--set', 'server.nothing=1'], 'server.nothing (from --set server.nothing): no such setting'],
    [['--set', 'server.port'], 'expected PATH=VALUE'],
    [['--verbose'], 'Unknown option'],
    [['--set', 'server.authRequired=true'], 'no API key'],
  ])('exits 2 with one line for %j', async (argv, expected) => {
    const stderr = captureStderr();
    const quiet = argv.includes('--log-level') ? [] : ['--log-level', 'silent'];
    expect(await serveCommand([...quiet, ...argv], { env: {} })).toBe(2);
    expect(stderr.text()).toContain(expected);
    expect(stderr.text()).not.toMatch(/\n\s+at /);
  });

  it('dispatches commands and answers unknown ones with usage and exit 2', async () => {
    const stderr = captureStderr();
    expect(await main(['frobnicate'])).toBe(2);
    expect(stderr.text()).toContain('unknown command "frobnicate"');
    expect(await main(['--version'])).toBe(0);
    expect(await main(['--help'])).toBe(0);
    expect(await main(['serve', '--port', 'x'])).toBe(2);
  });
});

describe('boot', () => {
  it('stops at once with UT_ERR_MODEL_MISSING and the pull command when a model is absent', async () => {
    const stderr = captureStderr();
    const emptyDir = mkdtempSync(join(tmpdir(), 'undertone-models-'));
    const code = await serveCommand(
      [
        '--port',
        '0',
        '--models',
        'default',
        '--set',
        `models.dir=${emptyDir}`,
        '--set',
        'models.autoPull=false',
        '--log-level',
        'silent',
      ],
      { env: {} },
    );
    expect(code).toBe(1);
    expect(stderr.text()).toContain('UT_ERR_MODEL_MISSING');
    expect(stderr.text()).toContain('undertone models pull');
    expect(stderr.text()).toContain('--models fixtures');
    expect(stderr.text()).not.toMatch(/\n\s+at /);
  });

  it('tries to pull missing default models and, offline, stops fast pointing to fixtures', async () => {
    const stderr = captureStderr();
    const emptyDir = mkdtempSync(join(tmpdir(), 'undertone-models-'));
    // A loopback port with nothing listening stands in for an unreachable hub.
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const code = await serveCommand(
      [
        '--port',
        '0',
        '--set',
        `models.dir=${emptyDir}`,
        '--set',
        `models.hubUrl=http://127.0.0.1:${closedPort}`,
        '--log-level',
        'silent',
      ],
      { env: {} },
    );
    expect(code).toBe(1);
    expect(stderr.text()).toContain('UT_ERR_MODEL_DOWNLOAD');
    expect(stderr.text()).toContain('--models fixtures');
    expect(stderr.text()).not.toMatch(/\n\s+at /);
  });

  it('serves real sessions on fixture models and shuts down cleanly', async () => {
    const fixturesDir = mkdtempSync(join(tmpdir(), 'undertone-fixtures-'));
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let ready!: (server: RunningServer) => void;
    const listening = new Promise<RunningServer>((resolve) => (ready = resolve));

    const exit = serveCommand(
      [
        '--port',
        '0',
        '--models',
        'fixtures',
        '--set',
        `models.fixturesDir=${fixturesDir}`,
        '--log-level',
        'silent',
      ],
      { env: {}, stop: stopped, onReady: ready },
    );
    const server = await Promise.race([
      listening,
      exit.then((code) => Promise.reject(new Error(`exited ${code}`))),
    ]);

    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const c = await WsTestClient.connect(server.wsUrl);
    const started = await c.start({ mode: 'agent' });
    expect(started).toMatchObject({ protocolVersion: 1, mode: 'agent', resumed: false, tracks: 1 });

    for (let seq = 0; seq < 10; seq++) {
      const silence = new Uint8Array(640);
      c.sendBinary(
        encodeFrame(
          { kind: FRAME_KIND.callerAudio, stream: 0, seq, timestampMs: seq * 20 },
          silence,
        ),
      );
    }
    c.sendBinary(new Uint8Array([1, 2, 3]));
    expect(await c.waitForType('error')).toMatchObject({ code: 'UT_ERR_BAD_FRAME_HEADER' });
    c.sendJson({ type: 'session.end', reason: 'test' });
    const ended = await c.waitForType('session.ended');
    expect(ended).toMatchObject({ sessionId: started.sessionId, reason: 'test' });
    expect((ended.stats as { frames: number }).frames).toBe(10);
    expect((await c.closed).code).toBe(1000);

    const tone = Float32Array.from(
      { length: 16000 },
      (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000),
    );
    const transcribed = await fetch(`${server.url}/v1/transcribe`, {
      method: 'POST',
      headers: { 'content-type': 'audio/wav' },
      body: Buffer.from(encodeWav([tone], 16000)),
    });
    expect(transcribed.status).toBe(200);
    expect(await transcribed.json()).toMatchObject({ text: expect.any(String), durationMs: 1000 });

    stop();
    expect(await exit).toBe(0);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

describe('transcribe mode', () => {
  it('loads no LLM or TTS and starts sessions in transcribe mode by default', async () => {
    const fixturesDir = mkdtempSync(join(tmpdir(), 'undertone-fixtures-'));
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let ready!: (server: RunningServer) => void;
    const listening = new Promise<RunningServer>((resolve) => (ready = resolve));
    const argv = ['--port', '0', '--mode', 'transcribe', '--models', 'fixtures'];
    const exit = serveCommand(
      [...argv, '--set', `models.fixturesDir=${fixturesDir}`, '--log-level', 'silent'],
      { env: {}, stop: stopped, onReady: ready },
    );
    const server = await Promise.race([
      listening,
      exit.then((code) => Promise.reject(new Error(`exited ${code}`))),
    ]);

    const readyz = (await (await fetch(`${server.url}/readyz`)).json()) as {
      components: Record<string, unknown>;
    };
    expect(Object.keys(readyz.components).sort()).toEqual(['asr', 'vad']);
    const c = await WsTestClient.connect(server.wsUrl);
    c.sendJson({
      type: 'session.start',
      version: 1,
      audio: { codec: 'mulaw', sampleRateHz: 8000, channels: 1, frameMs: 20 },
    });
    expect(await c.waitForType('session.started')).toMatchObject({ mode: 'transcribe' });
    c.close();

    stop();
    expect(await exit).toBe(0);
  });
});
