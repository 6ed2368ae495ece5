/**
 * Prometheus metrics of the process, on one registry served at `/metrics`. Every metric lives
 * here so names stay consistent and nothing is registered twice. Durations are in seconds, as
 * Prometheus expects.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

const fast = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05];
const turn = [0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

export const metrics = {
  sessionsActive: new Gauge({
    name: 'undertone_sessions_active',
    help: 'Open sessions',
    registers: [registry],
    labelNames: ['mode'],
  }),
  sessionsTotal: new Counter({
    name: 'undertone_sessions_total',
    help: 'Sessions started',
    registers: [registry],
    labelNames: ['mode'],
  }),
  framesTotal: new Counter({
    name: 'undertone_frames_total',
    help: 'Audio frames received',
    registers: [registry],
    labelNames: ['codec'],
  }),
  framesLost: new Counter({
    name: 'undertone_frames_lost_total',
    help: 'Audio frames missing by sequence number',
    registers: [registry],
  }),
  decodeErrors: new Counter({
    name: 'undertone_decode_errors_total',
    help: 'Audio frames that failed to decode',
    registers: [registry],
    labelNames: ['codec'],
  }),
  errorsTotal: new Counter({
    name: 'undertone_errors_total',
    help: 'Error events sent, by code',
    registers: [registry],
    labelNames: ['code'],
  }),
  queueDepth: new Gauge({
    name: 'undertone_queue_depth',
    help: 'Requests waiting in a shared scheduler',
    registers: [registry],
    labelNames: ['stage'],
  }),
  vadInferenceSeconds: new Histogram({
    name: 'undertone_vad_inference_seconds',
    help: 'Time of one VAD inference run (one batch)',
    registers: [registry],
    buckets: fast,
  }),
  vadBatchSize: new Histogram({
    name: 'undertone_vad_batch_size',
    help: 'Windows per VAD inference',
    registers: [registry],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
  }),
  asrSeconds: new Histogram({
    name: 'undertone_asr_seconds',
    help: 'ASR decode time',
    registers: [registry],
    labelNames: ['kind'],
    buckets: turn,
  }),
  asrShed: new Counter({
    name: 'undertone_asr_partials_shed_total',
    help: 'Partial decodes skipped because the scheduler was behind',
    registers: [registry],
  }),
  asrBatchSize: new Histogram({
    name: 'undertone_asr_batch_size',
    help: 'Requests per ASR batch',
    registers: [registry],
    buckets: [1, 2, 4, 8, 16],
  }),
  speechEndToFinalSeconds: new Histogram({
    name: 'undertone_speech_end_to_final_seconds',
    help: 'End of speech to final transcript',
    registers: [registry],
    buckets: turn,
  }),
  llmFirstTokenSeconds: new Histogram({
    name: 'undertone_llm_first_token_seconds',
    help: 'Final transcript to first LLM token',
    registers: [registry],
    buckets: turn,
  }),
  ttsFirstAudioSeconds: new Histogram({
    name: 'undertone_tts_first_audio_seconds',
    help: 'First LLM token to first TTS audio',
    registers: [registry],
    buckets: turn,
  }),
  voiceToVoiceSeconds: new Histogram({
    name: 'undertone_voice_to_voice_seconds',
    help: 'End of user speech to first agent audio sent',
    registers: [registry],
    buckets: turn,
  }),
  bargeIns: new Counter({
    name: 'undertone_barge_ins_total',
    help: 'Replies cancelled by caller speech',
    registers: [registry],
  }),
  emotionSeconds: new Histogram({
    name: 'undertone_emotion_fusion_seconds',
    help: 'Time of one emotion fusion',
    registers: [registry],
    buckets: fast,
  }),
};
