import { describe, expect, it } from 'vitest';
import { ClockSync } from '../src/clock-sync.js';

describe('ClockSync', () => {
  it('estimates the offset from a symmetric round trip exactly', () => {
    const sync = new ClockSync();
    // Client sends at 1000; the server (5000 ms ahead) stamps 6010; reply lands at 1020.
    sync.addSample(1000, 6010, 1020);
    expect(sync.estimate()).toEqual({ offsetMs: 5000, rttMs: 20, errorBoundMs: 10, samples: 1 });
    expect(sync.toServerTime(2000)).toBe(7000);
  });

  it('keeps the sample with the shortest round trip among the last N', () => {
    const sync = new ClockSync(3);
    sync.addSample(0, 5300, 400); // queued on the way out: offset looks like +5100
    sync.addSample(1000, 6004, 1008); // short and symmetric: +5000
    sync.addSample(2000, 7010, 2300); // queued on the way back: offset looks like +4860
    expect(sync.estimate()!.offsetMs).toBe(5000);
    expect(sync.estimate()!.rttMs).toBe(8);

    // Three more long samples push the good one out of the window.
    for (const t of [3000, 4000, 5000]) sync.addSample(t, t + 5000 + 100, t + 100);
    expect(sync.estimate()).toMatchObject({ offsetMs: 5050, rttMs: 100, samples: 3 });
  });

  it('ignores impossible samples', () => {
    const sync = new ClockSync();
    expect(sync.addSample(100, 5000, 90)).toBeUndefined();
    expect(sync.addSample(100, Number.NaN, 120)).toBeUndefined();
    expect(sync.estimate()).toBeUndefined();
    expect(sync.toServerTime(10)).toBe(10);
  });
});
