/**
 * Voice-to-voice latency by stage at 1, 8 and 32 concurrent sessions on fixture models, through
 * the load tester's callers against `undertone serve --models fixtures` in its own process (so
 * the callers' work does not delay the server's event loop).
 *
 * Stages come from each `response.done`'s `timings` (server wall clock from the end of speech):
 * speech end -> final transcript, final -> LLM first token, LLM first token -> TTS first audio,
 * TTS first audio -> first agent frame sent (voice-to-voice minus the three before), and the
 * server's own overhead (voice-to-voice minus model compute). `client_first_audio_*` is the same
 * turn seen by the caller: last speech frame sent -> first agent frame received.
 *
 * Bounded: each session says one utterance in quick mode (14 s deadline per level, under 60 s
 * with the server boot), three in full mode (60 s deadline per level).
 */
import { join } from 'node:path';
import { codecSetup, loadSpeech } from '../loadtest/src/recordings.js';
import { runLoadLevel, type LoadLevelReport } from '../loadtest/src/run-load.js';
import type { TurnMetric } from '../loadtest/src/run-metrics.js';
import { projectRoot, spawnServer } from '../loadtest/src/server-process.js';

const LEVELS = [1, 8, 32] as const;

/** Metric name in the result -> load tester series. */
const STAGES: Array<[string, TurnMetric]> = [
  ['speech_end_to_final', 'serverSpeechEndToFinalMs'],
  ['final_to_llm_first_token', 'serverFinalToLlmFirstTokenMs'],
  ['llm_first_token_to_tts_first_audio', 'serverLlmFirstTokenToTtsFirstAudioMs'],
  ['tts_first_audio_to_sent', 'serverTtsAudioToSentMs'],
  ['voice_to_voice', 'serverVoiceToVoiceMs'],
  ['server_overhead', 'serverOverheadMs'],
  ['model_compute', 'serverModelComputeMs'],
  ['queue_wait', 'serverQueueWaitMs'],
  ['client_first_audio', 'firstAudioMs'],
];

/** Runs the three levels; keys like `s8_voice_to_voice_p50_ms`. Missing stages are left out. */
export async function benchTurn(opts: { quick?: boolean } = {}): Promise<Record<string, number>> {
  // Each session says `turns` utterances; the level ends when all are answered (or unanswered
  // after 8 s), with `deadlineS` as the hard stop.
  const turns = opts.quick ? 1 : 3;
  const deadlineS = opts.quick ? 14 : 60;
  const setup = codecSetup('pcm16');
  // The committed fixture, so runs compare across machines with or without ../shared.
  const speech = loadSpeech({ dir: join(projectRoot(), 'test', 'fixtures', 'speech'), setup });
  const server = await spawnServer({ args: ['--set', 'server.maxSessions=100'] });
  const result: Record<string, number> = {};
  try {
    for (const sessions of LEVELS) {
      const level = await runLoadLevel({
        target: server.target,
        callers: sessions,
        durationS: deadlineS,
        rampS: 2,
        maxTurnsPerCaller: turns,
        mode: 'agent',
        setup,
        speech,
        interruptProb: 0,
        replyTimeoutMs: deadlineS * 1000,
        sampleFrom: { pid: server.pid },
      });
      Object.assign(result, levelNumbers(`s${sessions}`, level));
    }
  } finally {
    await server.stop();
  }
  return result;
}

function levelNumbers(prefix: string, level: LoadLevelReport): Record<string, number> {
  const out: Record<string, number> = {};
  const m = level.metrics;
  for (const [name, metric] of STAGES) {
    const s = m.latency[metric];
    if (s.p50 !== null) out[`${prefix}_${name}_p50_ms`] = round(s.p50);
    if (s.p99 !== null) out[`${prefix}_${name}_p99_ms`] = round(s.p99);
  }
  out[`${prefix}_turns_answered`] = m.counters.turnsAnswered;
  out[`${prefix}_turns_unanswered`] = m.counters.turnsNoReply;
  out[`${prefix}_late_frame_pct`] = round(m.lateFrameRatio * 100, 2);
  if (level.server.cpuPercent.mean !== null)
    out[`${prefix}_server_cpu_pct`] = round(level.server.cpuPercent.mean);
  if (level.server.rssMb.max !== null)
    out[`${prefix}_server_rss_max_mb`] = round(level.server.rssMb.max);
  return out;
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
