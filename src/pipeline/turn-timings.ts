/**
 * Per-turn timings (`TurnTimings` of the protocol), all in wall-clock ms since the end of the
 * user's speech, and their Prometheus histograms.
 */
import { metrics } from '../metrics/metrics.js';
import type { TurnTimings } from '../protocol/messages.js';

/** Wall times (ms, `performance.now()`) a reply records as it runs. */
export interface TurnClock {
  replyStartWallMs: number;
  llmFirstTokenWallMs?: number;
  llmEndWallMs?: number;
  ttsFirstAudioWallMs?: number;
  /** From handing the first sentence to TTS to its first audio. */
  ttsFirstChunkLatencyMs?: number;
  /** Time spent waiting on TTS chunks, summed over sentences. */
  ttsBusyMs: number;
  firstFrameWallMs?: number;
}

const span = (from: number | null | undefined, to: number | null | undefined): number | null =>
  from == null || to == null ? null : Math.max(0, Math.round(to - from));

/**
 * Builds the timings and records them in the metrics. `serverOverheadMs` is voice-to-voice minus
 * the model waits on its path: final transcript, LLM first token, TTS first audio.
 */
export function computeTimings(
  request: { speechEndWallMs: number; finalWallMs: number | null },
  clock: TurnClock,
): TurnTimings {
  const final = request.finalWallMs ?? request.speechEndWallMs;
  const timings: TurnTimings = {
    speechEndToFinalMs: span(request.speechEndWallMs, request.finalWallMs),
    finalToLlmFirstTokenMs: span(final, clock.llmFirstTokenWallMs),
    llmFirstTokenToTtsFirstAudioMs: span(clock.llmFirstTokenWallMs, clock.ttsFirstAudioWallMs),
    voiceToVoiceMs: span(request.speechEndWallMs, clock.firstFrameWallMs),
    llmMs: span(clock.replyStartWallMs, clock.llmEndWallMs),
    ttsMs: clock.ttsFirstAudioWallMs === undefined ? null : Math.round(clock.ttsBusyMs),
    serverOverheadMs: null,
  };
  if (timings.voiceToVoiceMs !== null) {
    const models =
      (timings.speechEndToFinalMs ?? 0) +
      (timings.finalToLlmFirstTokenMs ?? 0) +
      (clock.ttsFirstChunkLatencyMs ?? 0);
    timings.serverOverheadMs = Math.max(0, Math.round(timings.voiceToVoiceMs - models));
  }

  const seconds = (ms: number | null): number | undefined => (ms === null ? undefined : ms / 1000);
  const observe = (h: { observe(v: number): void }, ms: number | null): void => {
    const s = seconds(ms);
    if (s !== undefined) h.observe(s);
  };
  // speechEndToFinal is observed by the transcriber itself (asr/streaming-transcriber.ts).
  observe(metrics.llmFirstTokenSeconds, timings.finalToLlmFirstTokenMs);
  observe(metrics.ttsFirstAudioSeconds, timings.llmFirstTokenToTtsFirstAudioMs);
  observe(metrics.voiceToVoiceSeconds, timings.voiceToVoiceMs);
  return timings;
}
