import { describe, expect, it } from 'vitest';
import { CallMetrics, customerTrackOf } from '../../src/emotion/call-metrics.js';

describe('CallMetrics', () => {
  it('gives talk ratio, talk-over and longest silence of a two-party call', () => {
    const m = new CallMetrics({ tracks: 2, customerTrack: 1 });
    m.speechStopped(0, 1000, 4000); // agent 3 s
    m.speechStopped(1, 3500, 5000); // customer 1.5 s, 0.5 s over the agent
    m.speechStopped(1, 9000, 10_000); // after 4 s of silence
    const s = m.snapshot(11_000, 'call.summary');
    expect(s.type).toBe('call.summary');
    expect(s.talkMs).toEqual([3000, 2500]);
    expect(s.talkRatio).toEqual([0.545, 0.455]);
    expect(s.talkOverMs).toBe(500);
    expect(s.longestSilenceMs).toBe(4000);
    expect(s.customerValence).toBeNull();
  });

  it('counts open speech up to now and only certain customer emotion', () => {
    const m = new CallMetrics({ tracks: 2, customerTrack: 0 });
    m.observe({ type: 'vad.speech_started', track: 0, startMs: 2000 });
    m.observe({ type: 'emotion.final', track: 0, valence: -0.5, arousal: 0.6, uncertain: false });
    m.observe({ type: 'emotion.final', track: 0, valence: 0.5, arousal: 0.2, uncertain: false });
    m.observe({ type: 'emotion.final', track: 0, valence: 1, arousal: 1, uncertain: true });
    m.observe({ type: 'emotion.final', track: 1, valence: 1, arousal: 1, uncertain: false });
    m.observe({ type: 'transcript.final', track: 0 });
    const s = m.snapshot(3000);
    expect(s.talkMs).toEqual([1000, 0]);
    expect(s.longestSilenceMs).toBe(2000);
    expect(s.customerValence).toBe(0);
    expect(s.customerArousal).toBe(0.4);
  });

  it('is due once per interval of audio', () => {
    const m = new CallMetrics({ tracks: 1, customerTrack: 0, intervalMs: 1000 });
    expect([500, 1000, 1500, 2100, 2200, 5000].map((t) => m.due(t))).toEqual([
      false,
      true,
      false,
      true,
      false,
      true,
    ]);
  });

  it('finds the customer track by role', () => {
    expect(customerTrackOf(['agent', 'customer'], 2)).toBe(1);
    expect(customerTrackOf(undefined, 1)).toBe(0);
    // Two tracks and no customer role: no track is guessed to be the customer.
    expect(customerTrackOf(['agent', 'other'], 2)).toBe(-1);
    expect(customerTrackOf(undefined, 2)).toBe(-1);
  });
});
