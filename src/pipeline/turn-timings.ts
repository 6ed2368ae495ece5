/**
 * Per-turn timings (`TurnTimings` of the protocol, where the definitions live) and their
 * Prometheus histograms.
 *
 * Every point of a turn is a `performance.now()` reading. Each is taken relative to the origin
 * (the VAD's speech-end decision), rounded to whole ms once, and held at or after the point
 * before it on the turn's path; stages and shares are differences of those rounded points, so
 * they are never negative and sum exactly to voice-to-voice.
 */
import { metrics } from '../metrics/metrics.js';
import type { TurnTimings } from '../protocol/messages.js';

/** Wall times (ms, `performance.now()`) a reply records as it runs. */
export interface TurnClock {
  replyStartWallMs: number;
  /** `llm.generate` called. */
  llmRequestWallMs?: number;
  llmFirstTokenWallMs?: number;
  llmEndWallMs?: number;
  /** The sentence whose audio came first was complete (queued for TTS). */
  spokenSentenceWallMs?: number;
  /** TTS called for that sentence (after any wait behind earlier sentences). */
  ttsRequestWallMs?: number;
  /** Its first audio chunk. */
  ttsFirstAudioWallMs?: number;
  /** Time spent waiting on TTS chunks, summed over sentences. */
  ttsBusyMs: number;
  firstFrameWallMs?: number;
}

/** When the turn's input ended: the origin, and the final transcript (null for typed input). */
export interface TurnOrigin {
  speechEndWallMs: number;
  finalWallMs: number | null;
}

/** Builds the timings from the clock, without side effects (see `TurnTimings` for meanings). */
export function turnTimings(request: TurnOrigin, clock: TurnClock): TurnTimings {
  const origin = request.speechEndWallMs;
  let last = 0;
  /** The point `wallMs` in whole ms from the origin, not before the previous point. */
  const point = (wallMs: number | null | undefined): number | null => {
    if (wallMs == null || !Number.isFinite(wallMs)) return null;
    last = Math.max(last, Math.round(wallMs - origin));
    return last;
  };
  // In path order: each point is held at or after the one before.
  const final = point(request.finalWallMs) ?? 0;
  const llmRequest = point(clock.llmRequestWallMs ?? clock.replyStartWallMs);
  const firstToken = point(clock.llmFirstTokenWallMs);
  const sentence = point(clock.spokenSentenceWallMs);
  const ttsRequest = point(clock.ttsRequestWallMs);
  const ttsFirst = point(clock.ttsFirstAudioWallMs);
  const frame = point(clock.firstFrameWallMs);

  const diff = (from: number | null, to: number | null): number | null =>
    from === null || to === null ? null : to - from;
  const asr = request.finalWallMs === null ? null : final;
  const llmCompute = diff(llmRequest, sentence);
  const ttsCompute = diff(ttsRequest, ttsFirst);
  const queueWait = diff(sentence, ttsRequest);
  const modelCompute =
    llmCompute === null || ttsCompute === null ? null : (asr ?? 0) + llmCompute + ttsCompute;
  const llmEnd = clock.llmEndWallMs;

  return {
    speechEndToFinalMs: asr,
    finalToLlmFirstTokenMs: diff(final, firstToken),
    llmFirstTokenToTtsFirstAudioMs: diff(firstToken, ttsFirst),
    ttsFirstAudioToFirstFrameMs: diff(ttsFirst, frame),
    voiceToVoiceMs: frame,
    llmMs: llmEnd === undefined ? null : Math.max(0, Math.round(llmEnd - clock.replyStartWallMs)),
    ttsMs: clock.ttsFirstAudioWallMs === undefined ? null : Math.round(clock.ttsBusyMs),
    asrComputeMs: asr,
    llmComputeMs: llmCompute,
    ttsComputeMs: ttsCompute,
    modelComputeMs: frame === null ? null : modelCompute,
    queueWaitMs: frame === null ? null : queueWait,
    serverOverheadMs:
      frame === null || modelCompute === null || queueWait === null
        ? null
        : frame - modelCompute - queueWait,
  };
}

/** Builds the timings and records them in the metrics. */
export function computeTimings(request: TurnOrigin, clock: TurnClock): TurnTimings {
  const timings = turnTimings(request, clock);
  const observe = (h: { observe(v: number): void }, ms: number | null | undefined): void => {
    if (ms != null) h.observe(ms / 1000);
  };
  // speechEndToFinal is observed by the transcriber itself (asr/streaming-transcriber.ts).
  observe(metrics.llmFirstTokenSeconds, timings.finalToLlmFirstTokenMs);
  observe(metrics.ttsFirstAudioSeconds, timings.llmFirstTokenToTtsFirstAudioMs);
  observe(metrics.voiceToVoiceSeconds, timings.voiceToVoiceMs);
  return timings;
}
