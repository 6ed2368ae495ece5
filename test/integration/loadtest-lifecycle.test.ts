/**
 * Connection lifecycle under load, through the load tester against a real server on loopback:
 * (a) many callers that drop their sockets at once are released and new callers get in right
 * after; (b) connect/start/end cycles do not grow the process (no model session per connection).
 * Short versions for CI; the full runs are `npm run loadtest -- --drop-storm 200` and `--churn 1000`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runChurn } from '../../loadtest/src/churn.js';
import { runDisconnectStorm } from '../../loadtest/src/disconnect-storm.js';
import { codecSetup, loadSpeech } from '../../loadtest/src/recordings.js';
import { startInProcessServer, type InProcessServer } from './loadtest-server.js';

const setup = codecSetup('pcm16');
const speech = loadSpeech({ dir: join(import.meta.dirname, '..', 'fixtures', 'speech'), setup });
let running: InProcessServer;

beforeAll(async () => {
  running = await startInProcessServer(['server.resumeGraceMs=0']);
});

afterAll(async () => {
  expect(await running.stop()).toBe(0);
});

describe('disconnect storm', () => {
  it('releases 24 dropped sessions, accepts new callers right after, and holds no memory per storm', async () => {
    const storm = () =>
      runDisconnectStorm({
        target: running.target,
        callers: 24,
        holdMs: 1200,
        setup,
        speech,
        sampleFrom: { pid: process.pid },
      });
    // The first storm warms every allocator (ONNX arenas, decoder buffers); the second one shows
    // whether dropped sessions leave anything behind.
    const first = await storm();
    const report = await storm();
    console.log('disconnect storm', JSON.stringify({ first: first.rssMb, second: report.rssMb }));

    for (const r of [first, report]) {
      expect(r.failures).toEqual({});
      expect(r.connected).toBe(24);
      expect(r.sessionsActive.loaded).toBe(24);
      expect(r.sessionsActive.released).toBe(0);
      expect(r.probesAccepted).toBe(r.probeCallers);
    }
    expect(running.server.sessionCount()).toBe(0);
    // Not a leak check to the byte (GC decides when pages go back): a second storm must not keep
    // anything like the memory of 24 more live sessions.
    const growthMb = report.rssMb.released! - first.rssMb.released!;
    const perStormMb = Math.max(16, first.rssMb.loaded! - first.rssMb.baseline!);
    expect(growthMb).toBeLessThan(Math.max(48, perStormMb));
  });
});

describe('churn', () => {
  it('keeps RSS flat over connect/start/end cycles', async () => {
    const report = await runChurn({
      target: running.target,
      cycles: 150,
      concurrency: 6,
      setup,
      speech,
      sampleFrom: { pid: process.pid },
    });
    console.log('churn', JSON.stringify({ ...report, rssByCycle: report.rssByCycle.length }));

    expect(report.failures).toEqual({});
    expect(report.completed).toBe(150);
    expect(report.sessionsActiveAfter).toBe(0);
    // One Silero session alone is ~2 MB: a model per connection would add well over 100 MB here.
    expect(report.rssMb.after! - report.rssMb.warm!).toBeLessThan(60);
  });
});
