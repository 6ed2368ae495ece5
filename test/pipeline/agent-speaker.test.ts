import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentSpeaker } from '../../src/pipeline/agent-speaker.js';
import type { AgentAudioFrame } from '../../src/pipeline/types.js';

const frame = () => ({ payload: new Uint8Array(4), reference16k: new Float32Array(320) });

describe('AgentSpeaker', () => {
  let sent: Array<{ frame: AgentAudioFrame; atMs: number }>;
  let speaker: AgentSpeaker;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    sent = [];
    speaker = new AgentSpeaker({
      responseId: 'r1',
      stream: 1,
      frameMs: 20,
      playbackLeadMs: 200,
      send: (f) => sent.push({ frame: f, atMs: performance.now() }),
    });
  });
  afterEach(() => vi.useRealTimers());

  it('sends no more than playbackLeadMs ahead of real time', () => {
    for (let i = 0; i < 100; i++) speaker.enqueue(frame());
    expect(sent).toHaveLength(10);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(60);
    const t0 = sent[0]!.atMs;
    for (const [k, s] of sent.entries())
      expect((k + 1) * 20 - (s.atMs - t0)).toBeLessThanOrEqual(200);
    expect(sent.map((s) => s.frame.seq)).toEqual(sent.map((_, i) => i));
    expect(sent.map((s) => s.frame.timestampMs)).toEqual(sent.map((_, i) => i * 20));
  });

  it('stops at once: nothing queued leaves after stop, and playedMs counts what played', () => {
    for (let i = 0; i < 100; i++) speaker.enqueue(frame());
    vi.advanceTimersByTime(500);
    const played = speaker.stop();
    const count = sent.length;
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(count);
    expect(played).toBe(500);
    expect(speaker.sentMs).toBe(700);
  });

  it('models a gap when audio comes slower than real time', () => {
    speaker.enqueue(frame());
    vi.advanceTimersByTime(100);
    speaker.enqueue(frame());
    vi.advanceTimersByTime(10);
    // The first frame played 0-20, the second from its arrival at 100: 10 ms of it by now.
    expect(speaker.playedMs()).toBe(30);
  });

  it('prefers the client playback report, moving with time, capped at what was sent', () => {
    for (let i = 0; i < 20; i++) speaker.enqueue(frame());
    vi.advanceTimersByTime(300);
    speaker.reportPlayed(120);
    vi.advanceTimersByTime(50);
    expect(speaker.playedMs()).toBe(170);
    speaker.reportPlayed(10_000);
    expect(speaker.playedMs()).toBe(speaker.sentMs);
  });

  it('resolves finished once the last frame has played', async () => {
    for (let i = 0; i < 5; i++) speaker.enqueue(frame());
    speaker.endInput();
    let done = false;
    void speaker.finished().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(90);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    expect(done).toBe(true);
  });
});
