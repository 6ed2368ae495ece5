/**
 * A short load level through the load tester against a real server on loopback: every caller gets
 * a session, streams on schedule and takes turns; the report carries the server's histograms and
 * renders. Numbers are printed, not asserted (speed belongs to `npm run loadtest`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { codecSetup, loadSpeech } from '../../loadtest/src/recordings.js';
import { formatLevel, renderHtml } from '../../loadtest/src/report.js';
import { runLoadLevel } from '../../loadtest/src/run-load.js';
import { startInProcessServer, type InProcessServer } from './loadtest-server.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'speech');
let running: InProcessServer;

beforeAll(async () => {
  running = await startInProcessServer();
});

afterAll(async () => {
  expect(await running.stop()).toBe(0);
});

describe('load level', () => {
  it('runs 6 agent callers on opus with turns, and reports server histograms', async () => {
    const setup = codecSetup('opus');
    const level = await runLoadLevel({
      target: running.target,
      callers: 6,
      durationS: 6,
      rampS: 1,
      mode: 'agent',
      setup,
      speech: loadSpeech({ dir: FIXTURES, setup }),
      interruptProb: 0.5,
      sampleFrom: { pid: process.pid },
    });
    console.log(formatLevel(level));

    const c = level.metrics.counters;
    expect(c.sessionsStarted).toBe(6);
    expect(c.turns).toBeGreaterThanOrEqual(6);
    // Six callers for about 5 s each at 50 frames/s, whatever the timing.
    expect(c.framesSent).toBeGreaterThan(6 * 4 * 50 * 0.9);
    expect(level.metrics.errors).toEqual({});
    expect(running.server.sessionCount()).toBe(0);
    expect(level.serverHistograms).toHaveProperty('undertone_voice_to_voice_seconds');
    expect(level.serverHistograms.undertone_vad_inference_seconds).toBeGreaterThan(0);
    expect(level.server.rssMb.max).toBeGreaterThan(0);
    expect(renderHtml([level], null)).toContain('<svg');
  });

  it('runs 10 transcribe callers on mu-law', async () => {
    const setup = codecSetup('mulaw');
    const level = await runLoadLevel({
      target: running.target,
      callers: 10,
      durationS: 4,
      rampS: 1,
      mode: 'transcribe',
      setup,
      speech: loadSpeech({ dir: FIXTURES, setup }),
      sampleFrom: { pid: process.pid },
    });
    console.log(formatLevel(level));

    expect(level.metrics.counters.sessionsStarted).toBe(10);
    expect(level.metrics.counters.agentFrames).toBe(0);
    expect(level.metrics.errors).toEqual({});
  });
});
