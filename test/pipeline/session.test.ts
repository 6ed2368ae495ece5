/**
 * `createSession` around the turn logic: control messages, transcribe mode with separate stereo
 * tracks, decode errors, prosody batching, replay after a detach, and ending mid-reply. Real
 * VAD and ASR (fixture Whisper); LLM and TTS are doubles of remote services where a reply is
 * needed.
 */
import { readFileSync } from 'node:fs';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeMuLaw } from '../../src/audio/g711.js';
import { parseWav } from '../../src/audio/wav.js';
import { silentLogger } from '../../src/log/logger.js';
import { createSession } from '../../src/pipeline/session.js';
import { metrics } from '../../src/metrics/metrics.js';
import type { EmotionObserverFactory, EmotionResult } from '../../src/pipeline/stage-ports.js';
import { describeWithSharedAudio, sharedAudio } from '../helpers/shared-audio.js';
import { LlmTestDouble, TtsTestDouble } from './engine-test-doubles.js';
import {
  agentStart,
  createRealEngines,
  feed,
  readWav16k,
  RecordingSink,
  testConfig,
  transcribeStart,
  type RealEngines,
} from './session-test-helpers.js';

describeWithSharedAudio('createSession', () => {
  const config = testConfig();
  let engines: RealEngines;

  beforeAll(async () => {
    engines = await createRealEngines(config);
  });
  afterAll(async () => engines?.close());

  it('emits session.started at creation and answers ping with pong', async () => {
    const sink = new RecordingSink();
    const session = createSession(transcribeStart, { config, engines, log: silentLogger, sink });
    expect(sink.events[0]).toMatchObject({
      type: 'session.started',
      mode: 'transcribe',
      tracks: 1,
      resumeToken: session.resumeToken,
      eventIndex: 0,
    });
    const before = Date.now();
    session.handleMessage({ type: 'ping', id: 7, clientTimeMs: 123 });
    expect(sink.of('pong')[0]).toMatchObject({ id: 7, clientTimeMs: 123 });
    expect(sink.of('pong')[0]!.serverTimeMs).toBeGreaterThanOrEqual(before);
    session.handleMessage({ type: 'input.text', text: 'hello' });
    expect(sink.of('error')[0]).toMatchObject({
      code: 'UT_ERR_MODE_NOT_SUPPORTED',
      recoverable: true,
    });
    const ended = await session.end('done');
    expect(ended).toMatchObject({
      type: 'session.ended',
      reason: 'done',
      stats: { frames: 0, audioMs: 0 },
    });
    expect(session.ended).toBe(true);
  });

  it('transcribes each channel of a separate stereo call on its own track, with roles', async () => {
    const wav = parseWav(
      readFileSync(
        sharedAudio('telephony/callcenter_dualchannel_L-agent_R-caller.8k_mulaw_stereo.wav'),
      ),
    );
    const [left, right] = wav.channels as [Float32Array, Float32Array];
    const sink = new RecordingSink();
    const session = createSession(
      {
        ...transcribeStart,
        audio: { codec: 'mulaw', sampleRateHz: 8000, channels: 2, frameMs: 20 },
        channelLayout: 'separate',
        channelRoles: ['agent', 'customer'],
      },
      { config: testConfig({ 'asr.partialIntervalMs': 0 }), engines, log: silentLogger, sink },
    );
    // The first 9.5 s: the IVR prompt on the left, the caller from 6 s on the right.
    for (let at = 0, seq = 0; at < 8 * 9500; at += 160, seq++) {
      const l = encodeMuLaw(left.subarray(at, at + 160));
      const r = encodeMuLaw(right.subarray(at, at + 160));
      const frame = new Uint8Array(l.length * 2);
      l.forEach((v, i) => ((frame[2 * i] = v), (frame[2 * i + 1] = r[i]!)));
      session.pushAudio(frame, { seq });
      if (seq % 50 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    await session.end('done');

    expect(sink.events[0]).toMatchObject({ type: 'session.started', tracks: 2 });
    const started = sink.of('vad.speech_started');
    expect(new Set(started.map((e) => e.track))).toEqual(new Set([0, 1]));
    // The caller (right) starts at 6 s; the agent prompt (left) before.
    expect(Math.min(...started.filter((e) => e.track === 1).map((e) => e.startMs))).toBeGreaterThan(
      5000,
    );
    const finals = sink.of('transcript.final');
    expect(finals.some((f) => f.track === 0 && f.role === 'agent')).toBe(true);
    expect(finals.some((f) => f.track === 1 && f.role === 'customer')).toBe(true);
    expect(sink.types().some((t) => t.startsWith('response.'))).toBe(false);

    // Call metrics: periodic during the call, a summary before session.ended. Both parties
    // talked, they overlapped (6-9.5 s), and the ratios add up to one.
    expect(sink.of('call.metrics').length).toBeGreaterThanOrEqual(1);
    const summary = sink.of('call.summary')[0]!;
    expect(summary).toBeDefined();
    expect(sink.types().indexOf('call.summary')).toBe(sink.types().indexOf('session.ended') - 1);
    expect(summary.talkMs[0]).toBeGreaterThan(0);
    expect(summary.talkMs[1]).toBeGreaterThan(0);
    expect(summary.talkOverMs).toBeGreaterThan(0);
    expect(summary.talkRatio[0]! + summary.talkRatio[1]!).toBeCloseTo(1, 5);
  });

  it('batches prosody frames by prosodyIntervalMs and follows session.update', async () => {
    const sink = new RecordingSink();
    const session = createSession(
      { ...transcribeStart, prosodyIntervalMs: 200 },
      { config, engines, log: silentLogger, sink },
    );
    const speech = readWav16k(sharedAudio('speech/cmuarctic_aew_a0001.wav'));
    await feed(session, speech.subarray(0, 16_000));
    const batches = sink.of('prosody');
    expect(batches.length).toBeGreaterThanOrEqual(4);
    for (const b of batches.slice(0, -1)) {
      const span = b.frames.at(-1)!.timeMs - b.frames[0]!.timeMs;
      expect(span).toBeGreaterThanOrEqual(200);
      expect(span).toBeLessThan(240);
    }
    session.handleMessage({ type: 'session.update', prosodyIntervalMs: 0 });
    const count = sink.of('prosody').length;
    await feed(session, speech.subarray(16_000, 32_000), { startSample: 16_000 });
    expect(sink.of('prosody').length).toBe(count);
    await session.end('done');
  });

  it('reports undecodable frames as recoverable coded errors and goes on', async () => {
    const sink = new RecordingSink();
    const session = createSession(
      {
        ...transcribeStart,
        audio: { codec: 'opus', sampleRateHz: 48000, channels: 1, frameMs: 20 },
      },
      { config, engines, log: silentLogger, sink },
    );
    const counted = async (metric: {
      get(): Promise<{ values: { value: number; labels: object }[] }>;
    }) =>
      (await metric.get()).values
        .filter((v) => (v.labels as { codec?: string }).codec === 'opus')
        .reduce((a, v) => a + v.value, 0);
    const framesBefore = await counted(metrics.framesTotal);
    const errorsBefore = await counted(metrics.decodeErrors);
    session.pushAudio(Uint8Array.of(0xff, 0xff, 0xff, 0x01, 0x02), { seq: 0 });
    const ended = await session.end('done');
    expect(sink.of('error')[0]).toMatchObject({ code: 'UT_ERR_OPUS_DECODE', recoverable: true });
    expect(ended.stats).toMatchObject({ frames: 1, bytes: 5 });
    expect(await counted(metrics.framesTotal)).toBe(framesBefore + 1);
    expect(await counted(metrics.decodeErrors)).toBe(errorsBefore + 1);
  });

  it('replays events missed while detached to the new sink', async () => {
    const first = new RecordingSink();
    const session = createSession(transcribeStart, {
      config,
      engines,
      log: silentLogger,
      sink: first,
    });
    session.detach();
    session.handleMessage({ type: 'ping', id: 1, clientTimeMs: 0 });
    expect(first.of('pong')).toHaveLength(0);
    const second = new RecordingSink();
    session.attach(second, session.lastEventIndex - 1);
    expect(second.of('pong')).toHaveLength(1);
    await session.end('done');
    expect(second.types().at(-1)).toBe('session.ended');
  });

  it('ends mid-reply: the reply is cancelled (session-end) before session.ended', async () => {
    const sink = new RecordingSink();
    const session = createSession(agentStart, {
      config,
      engines: {
        ...engines,
        llm: new LlmTestDouble({ reply: 'A long reply. '.repeat(20) }),
        tts: new TtsTestDouble(),
      },
      log: silentLogger,
      sink,
    });
    session.handleMessage({ type: 'input.text', text: 'hello' });
    await sink.waitFor(
      () => sink.audioFrames.length > 0 && session.turnState === 'agent-speaking',
      10_000,
    );
    expect(session.turnState).toBe('agent-speaking');
    await session.end('bye');
    const types = sink.types();
    expect(types.slice(-2)).toEqual(['response.cancelled', 'session.ended']);
    expect(sink.of('response.cancelled')[0]).toMatchObject({
      reason: 'session-end',
      responseId: sink.of('response.started')[0]!.responseId,
    });
  });

  it('feeds an emotion observer per track and emits what it reports, until turned off', async () => {
    const seen: string[] = [];
    const emotion: EmotionObserverFactory = (_ctx, track) => {
      const results = new Subject<EmotionResult>();
      return {
        prosody: (frames) => void seen.push(`prosody:${track.index}:${frames.length > 0}`),
        speechStarted: (segmentId) => void seen.push(`start:${segmentId}`),
        partial: () => void seen.push('partial'),
        final: (segmentId) => {
          seen.push(`final:${segmentId}`);
          const evidence = { voice: {}, textValence: null };
          results.next({
            type: 'emotion.final',
            segmentId,
            tags: [{ label: 'neutral', score: 1 }],
            arousal: 0,
            valence: 0,
            uncertain: true,
            evidence,
          });
        },
        results,
        close: () => results.complete(),
      };
    };
    const sink = new RecordingSink();
    const session = createSession(transcribeStart, {
      config,
      engines,
      log: silentLogger,
      sink,
      emotion,
    });
    const speech = readWav16k(sharedAudio('speech/cmuarctic_aew_a0001.wav'));
    await feed(session, speech);
    await session.end('done');

    const final = sink.of('transcript.final')[0]!;
    expect(seen).toContain(`start:${final.segmentId}`);
    expect(seen).toContain(`final:${final.segmentId}`);
    expect(seen).toContain('prosody:0:true');
    expect(sink.of('emotion.final')[0]).toMatchObject({
      track: 0,
      segmentId: final.segmentId,
      sessionId: session.id,
    });

    seen.length = 0;
    const quiet = createSession(transcribeStart, {
      config,
      engines,
      log: silentLogger,
      sink: new RecordingSink(),
      emotion,
    });
    quiet.handleMessage({ type: 'session.update', emotion: { enabled: false } });
    await feed(quiet, speech.subarray(0, 16_000));
    await quiet.end('done');
    expect(seen).toEqual([]);
  });

  it("gives the LLM the caller's confident emotion with the user turn", async () => {
    const emotion: EmotionObserverFactory = () => {
      const results = new Subject<EmotionResult>();
      return {
        prosody: () => {},
        speechStarted: () => {},
        partial: () => {},
        final: (segmentId) =>
          results.next({
            type: 'emotion.final',
            segmentId,
            tags: [{ label: 'frustrated', score: 0.8 }],
            arousal: 0.4,
            valence: -0.6,
            uncertain: false,
            evidence: { voice: {}, textValence: -0.6 },
          }),
        results,
        close: () => results.complete(),
      };
    };
    const llm = new LlmTestDouble({ reply: 'I understand.' });
    const sink = new RecordingSink();
    const session = createSession(agentStart, {
      config,
      engines: { ...engines, llm, tts: new TtsTestDouble() },
      log: silentLogger,
      sink,
      emotion,
    });
    const speech = readWav16k(sharedAudio('speech/cmuarctic_aew_a0001.wav'));
    const withSilence = new Float32Array(speech.length + 16_000); // 1 s closes the segment
    withSilence.set(speech);
    await feed(session, withSilence);
    await sink.waitFor(() => llm.calls.length > 0, 20_000);
    await session.end('done');

    const user = llm.calls[0]!.messages.at(-1)!;
    expect(user.role).toBe('user');
    expect(user.content).toMatch(/\(caller sounds frustrated, arousal 0\.7, valence -0\.6\)$/);
  });

  it('runs as transcribe, with a coded error, when agent mode has no LLM or TTS', async () => {
    const sink = new RecordingSink();
    const session = createSession(agentStart, {
      config,
      engines: { vad: engines.vad, asr: engines.asr },
      log: silentLogger,
      sink,
    });
    expect(session.mode).toBe('transcribe');
    expect(sink.of('error')[0]).toMatchObject({ code: 'UT_ERR_MODE_NOT_SUPPORTED' });
    await session.end('done');
  });
});
