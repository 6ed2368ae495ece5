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
  it('releases 24 dropped sessions and accepts new callers right after', async () => {
    const report = await runDisconnectStorm({
      target: running.target,
      callers: 24,
      holdMs: 1200,
      setup,
      speech,
      sampleFrom: { pid: process.pid },
    });
    console.log('disconnect storm', JSON.stringify(report));

    expect(report.failures).toEqual({});
    expect(report.connected).toBe(24);
    expect(report.sessionsActive.loaded).toBe(24);
    expect(report.sessionsActive.released).toBe(0);
    expect(running.server.sessionCount()).toBe(0);
    expect(report.probesAccepted).toBe(report.probeCallers);
    // Not a leak check to the byte (GC decides when pages go back): the process must not keep
    // anything like the memory of 24 live sessions.
    const { baseline, loaded, released } = report.rssMb;
    expect(released! - baseline!).toBeLessThan(Math.max(64, 2 * (loaded! - baseline!)));
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
