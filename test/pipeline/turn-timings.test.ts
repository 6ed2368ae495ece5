/**
 * The arithmetic of per-turn timings: stages contiguous from one origin, summing exactly to
 * voice-to-voice; model compute + queue waits + server overhead summing to it too; nothing
 * negative, whatever the sub-millisecond readings and rounding.
 */
import { describe, expect, it } from 'vitest';
import { turnTimings, type TurnClock, type TurnOrigin } from '../../src/pipeline/turn-timings.js';
import type { TurnTimings } from '../../src/protocol/messages.js';

/** Deterministic random numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function expectConsistent(t: TurnTimings): void {
  const values = Object.entries(t).filter(([, v]) => v !== null && v !== undefined) as Array<
    [string, number]
  >;
  for (const [key, v] of values) {
    expect(Number.isInteger(v), key).toBe(true);
    expect(v, key).toBeGreaterThanOrEqual(0);
  }
  const stages =
    (t.speechEndToFinalMs ?? 0) +
    t.finalToLlmFirstTokenMs! +
    t.llmFirstTokenToTtsFirstAudioMs! +
    t.ttsFirstAudioToFirstFrameMs!;
  expect(stages).toBe(t.voiceToVoiceMs);
  expect(t.modelComputeMs).toBe((t.asrComputeMs ?? 0) + t.llmComputeMs! + t.ttsComputeMs!);
  expect(t.modelComputeMs! + t.queueWaitMs! + t.serverOverheadMs!).toBe(t.voiceToVoiceMs);
}

describe('turnTimings', () => {
  it('splits a turn into contiguous stages and into compute, queue waits and own work', () => {
    const origin: TurnOrigin = { speechEndWallMs: 1000.4, finalWallMs: 1250.2 };
    const clock: TurnClock = {
      replyStartWallMs: 1252.1,
      llmRequestWallMs: 1253.0,
      llmFirstTokenWallMs: 1300.6,
      spokenSentenceWallMs: 1380.3,
      ttsRequestWallMs: 1400.3,
      ttsFirstAudioWallMs: 1480.9,
      firstFrameWallMs: 1483.4,
      llmEndWallMs: 1600,
      ttsBusyMs: 150.4,
    };
    const t = turnTimings(origin, clock);
    expect(t).toMatchObject({
      speechEndToFinalMs: 250,
      finalToLlmFirstTokenMs: 50,
      llmFirstTokenToTtsFirstAudioMs: 181,
      ttsFirstAudioToFirstFrameMs: 2,
      voiceToVoiceMs: 483,
      llmMs: 348,
      ttsMs: 150,
      asrComputeMs: 250,
      llmComputeMs: 127,
      ttsComputeMs: 81,
      modelComputeMs: 458,
      queueWaitMs: 20,
      // Final -> LLM call (3) and TTS audio -> first frame (2).
      serverOverheadMs: 5,
    });
    expectConsistent(t);
  });

  it('holds for any readings, rounding and out-of-order clocks included', () => {
    const random = mulberry32(7);
    for (let i = 0; i < 2000; i++) {
      const base = 10_000 + random() * 1e6;
      let at = base;
      // Mostly increasing, sometimes a point a little before the previous one (another clock
      // read first, a fraction of a ms apart).
      const next = (): number =>
        (at += random() < 0.15 ? -random() : random() * (random() < 0.5 ? 2 : 400));
      const typed = random() < 0.2;
      const origin: TurnOrigin = { speechEndWallMs: base, finalWallMs: typed ? null : next() };
      const clock: TurnClock = {
        replyStartWallMs: next(),
        llmRequestWallMs: next(),
        llmFirstTokenWallMs: next(),
        spokenSentenceWallMs: next(),
        ttsRequestWallMs: next(),
        ttsFirstAudioWallMs: next(),
        firstFrameWallMs: next(),
        llmEndWallMs: next(),
        ttsBusyMs: random() * 100,
      };
      const t = turnTimings(origin, clock);
      if (typed) expect(t.speechEndToFinalMs).toBeNull();
      expectConsistent(t);
    }
  });

  it('leaves out what a turn without audio never reached', () => {
    const t = turnTimings(
      { speechEndWallMs: 0, finalWallMs: 200 },
      {
        replyStartWallMs: 201,
        llmRequestWallMs: 201,
        llmFirstTokenWallMs: 260,
        llmEndWallMs: 300,
        ttsBusyMs: 0,
      },
    );
    expect(t).toMatchObject({
      speechEndToFinalMs: 200,
      finalToLlmFirstTokenMs: 60,
      llmFirstTokenToTtsFirstAudioMs: null,
      voiceToVoiceMs: null,
      ttsMs: null,
      serverOverheadMs: null,
      queueWaitMs: null,
    });
  });
});
