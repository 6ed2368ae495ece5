import { describe, expect, it } from 'vitest';
import { Segmenter } from '../../src/vad/segmenter.js';
import type { VadEvent } from '../../src/vad/types.js';

const WINDOW = 512; // 32 ms

/** Feeds one window per probability; window k holds the value k + 1 in every sample. */
function feed(seg: Segmenter, probabilities: number[], firstIndex = 0): VadEvent[] {
  return probabilities.flatMap((p, i) =>
    seg.push(new Float32Array(WINDOW).fill(firstIndex + i + 1), p),
  );
}
const speechEvents = (events: VadEvent[]) => events.filter((e) => e.type !== 'probability');
const ends = (events: VadEvent[]) =>
  events.filter((e): e is Extract<VadEvent, { type: 'speech-end' }> => e.type === 'speech-end');
const repeat = (p: number, n: number): number[] => Array<number>(n).fill(p);
/** The samples pushed from `fromMs` to `toMs` (values are window index + 1). */
function expected(fromMs: number, toMs: number): Float32Array {
  const out = new Float32Array((toMs - fromMs) * 16);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor((fromMs * 16 + i) / WINDOW) + 1;
  return out;
}

describe('Segmenter', () => {
  it('emits one probability event per window, with its end time', () => {
    const events = feed(new Segmenter(), [0.1, 0.2]);
    expect(events).toEqual([
      { type: 'probability', endMs: 32, probability: 0.1 },
      { type: 'probability', endMs: 64, probability: 0.2 },
    ]);
  });

  it('drops a burst shorter than minSpeechMs without any speech event', () => {
    const seg = new Segmenter();
    // 7 windows = 224 ms < 250 ms, then 20 windows of silence.
    const events = feed(seg, [...repeat(0.1, 20), ...repeat(0.9, 7), ...repeat(0.05, 20)]);
    expect(speechEvents(events)).toEqual([]);
    expect(seg.flush()).toEqual([]);
  });

  it('starts speech once minSpeechMs is confirmed, startMs padded by preSpeechPadMs', () => {
    const seg = new Segmenter();
    const events = feed(seg, [...repeat(0.1, 20), ...repeat(0.9, 8)]);
    const start = speechEvents(events);
    expect(start).toHaveLength(1);
    expect(start[0]).toMatchObject({ type: 'speech-start', startMs: 20 * 32 - 300 });
    const audio = (start[0] as Extract<VadEvent, { type: 'speech-start' }>).audio;
    expect(audio).toEqual(expected(340, 28 * 32));
  });

  it('clamps the padded start at 0', () => {
    const events = feed(new Segmenter(), [0.1, 0.9, ...repeat(0.9, 8)]);
    expect(speechEvents(events)[0]).toMatchObject({ type: 'speech-start', startMs: 0 });
  });

  it('keeps speech going while the probability stays at or above deactivation', () => {
    const seg = new Segmenter();
    // 0.4 is below activation (0.5) but above deactivation (0.35): no end for 40 windows.
    const events = feed(seg, [...repeat(0.9, 10), ...repeat(0.4, 40)]);
    expect(ends(events)).toEqual([]);
    expect(seg.inSpeech).toBe(true);
  });

  it('does not start speech on values between the two thresholds', () => {
    expect(speechEvents(feed(new Segmenter(), repeat(0.45, 50)))).toEqual([]);
  });

  it('ends speech after 550 ms of silence, endMs = last speech window + 100 ms', () => {
    const seg = new Segmenter();
    const probs = [...repeat(0.1, 20), ...repeat(0.9, 30), ...repeat(0.1, 17), ...repeat(0.1, 1)];
    const events = feed(seg, probs);
    // 17 windows = 544 ms is not yet enough; the 18th (576 ms) ends it.
    expect(ends(feed(new Segmenter(), probs.slice(0, -1)))).toEqual([]);
    const [end] = ends(events);
    expect(end).toMatchObject({ startMs: 340, endMs: 50 * 32 + 100 });
    expect(end!.audio.length).toBe((end!.endMs - end!.startMs) * 16);
    expect(end!.audio).toEqual(expected(340, 50 * 32 + 100));
  });

  it('sends every window in speech as speech-audio; start + audio begin with the end audio', () => {
    const seg = new Segmenter();
    const events = feed(seg, [...repeat(0.9, 12), 0.2, 0.9, ...repeat(0.9, 5), ...repeat(0.1, 20)]);
    const parts = events.flatMap((e) =>
      e.type === 'speech-start' || e.type === 'speech-audio' ? [e.audio] : [],
    );
    const joined = new Float32Array(parts.reduce((n, a) => n + a.length, 0));
    parts.reduce((at, a) => (joined.set(a, at), at + a.length), 0);
    const [end] = ends(events);
    expect(joined.subarray(0, end!.audio.length)).toEqual(end!.audio);
    expect(events.filter((e) => e.type === 'speech-start')).toHaveLength(1);
  });

  it('flush ends an open segment at the end of the audio, tail included', () => {
    const seg = new Segmenter();
    feed(seg, repeat(0.9, 10));
    const tail = new Float32Array(100).fill(-1);
    const events = seg.flush(tail);
    const [end] = ends(events);
    expect(end).toMatchObject({ startMs: 0, endMs: (10 * WINDOW + 100) / 16 });
    expect(end!.audio.length).toBe((end!.endMs - end!.startMs) * 16);
    expect(end!.audio.subarray(10 * WINDOW)).toEqual(tail);
    expect(events[0]).toMatchObject({ type: 'speech-audio', endMs: end!.endMs });
    expect(seg.inSpeech).toBe(false);
  });

  it('flush drops a candidate not yet confirmed', () => {
    const seg = new Segmenter();
    feed(seg, repeat(0.9, 3));
    expect(seg.flush()).toEqual([]);
  });

  it('never pads a new segment back into the previous one', () => {
    const seg = new Segmenter({ minSilenceMs: 64, postSpeechPadMs: 0 });
    const events = feed(seg, [...repeat(0.9, 10), 0.1, 0.1, ...repeat(0.9, 10)]);
    seg.flush().forEach((e) => events.push(e));
    const [first, second] = ends(events);
    expect(first).toMatchObject({ startMs: 0, endMs: 320 });
    expect(second!.startMs).toBe(320);
    expect(second!.audio).toEqual(expected(320, second!.endMs));
  });

  it('handles windows of any length with exact sample counts', () => {
    const seg = new Segmenter({
      minSpeechMs: 0,
      minSilenceMs: 0,
      preSpeechPadMs: 7,
      postSpeechPadMs: 0,
    });
    const events: VadEvent[] = [];
    for (const [n, p] of [
      [100, 0.1],
      [333, 0.1],
      [77, 0.9],
      [5, 0.1],
    ] as const) {
      events.push(...seg.push(new Float32Array(n).fill(n), p));
    }
    const [end] = ends(events);
    expect(end).toMatchObject({ startMs: (433 - 112) / 16, endMs: 510 / 16 });
    expect(end!.audio.length).toBe((end!.endMs - end!.startMs) * 16);
    expect(seg.positionMs).toBe(515 / 16);
  });

  it('pads correctly after long silence, once old history is trimmed', () => {
    const seg = new Segmenter();
    feed(seg, repeat(0.01, 5000));
    const start = speechEvents(feed(seg, repeat(0.9, 8), 5000))[0];
    expect(start).toMatchObject({ type: 'speech-start', startMs: 5000 * 32 - 300 });
  });
});
