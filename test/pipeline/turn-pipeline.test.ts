/**
 * Turn-taking, barge-in and engine failures of `turnPipeline`, driven by VAD and transcript
 * signals directly (no audio), with test doubles of remote LLM and TTS services.
 */
import { Subject, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgentAudioEncoder } from '../../src/audio/agent-audio-encoder.js';
import { silentLogger } from '../../src/log/logger.js';
import type { SessionOutput, TurnSignal } from '../../src/pipeline/session-output.js';
import { conversationFor } from '../../src/pipeline/stage-factories.js';
import { turnPipeline } from '../../src/pipeline/turn-pipeline.js';
import type { ServerEvent, ServerEventBody } from '../../src/protocol/messages.js';
import type { LlmEngine } from '../../src/llm/types.js';
import type { TtsEngine } from '../../src/tts/types.js';
import { LlmTestDouble, TtsTestDouble } from './engine-test-doubles.js';
import { testConfig } from './session-test-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Out = SessionOutput & { wallMs: number };

class Harness {
  readonly signals = new Subject<TurnSignal>();
  readonly outputs: Out[] = [];
  readonly states: string[] = [];
  private readonly sub: Subscription;
  private positionMs = 0;
  private segments = 0;
  readonly conversation;

  constructor(
    readonly llm: LlmEngine,
    readonly tts: TtsEngine,
    overrides: Record<string, string | number | boolean> = {},
  ) {
    const config = testConfig(overrides);
    const ctx = { config, start: {} as never, log: silentLogger };
    this.conversation = conversationFor(ctx, llm);
    this.sub = this.signals
      .pipe(
        turnPipeline({
          config,
          llm,
          tts,
          encoder: createAgentAudioEncoder({ codec: 'pcm16', sampleRateHz: 16000, frameMs: 20 }),
          conversation: this.conversation,
          log: silentLogger,
          idPrefix: 't',
          onState: (s) => this.states.push(s),
        }),
      )
      .subscribe((o) => this.outputs.push({ ...o, wallMs: performance.now() }));
  }

  events(): ServerEventBody[] {
    return this.outputs.flatMap((o) => (o.kind === 'event' ? [o.body] : []));
  }

  of<T extends ServerEvent['type']>(type: T) {
    return this.events().filter((e) => e.type === type) as Array<
      Extract<ServerEventBody, { type: T }>
    >;
  }

  audio(responseId?: string) {
    return this.outputs.filter(
      (o): o is Extract<Out, { kind: 'audio' }> =>
        o.kind === 'audio' && (!responseId || o.frame.responseId === responseId),
    );
  }

  /** Probability windows of 32 ms over `ms` of caller audio. */
  windows(ms: number, probability: number): void {
    for (let t = 0; t < ms; t += 32) {
      this.positionMs += 32;
      this.signals.next({
        type: 'vad',
        track: 0,
        event: { type: 'probability', endMs: this.positionMs, probability },
      });
    }
  }

  /** A whole caller utterance: speech windows, start, end, then its final. */
  utterance(text: string, speechMs = 600): void {
    const segmentId = `seg${++this.segments}`;
    this.windows(256, 0.9);
    this.signals.next({
      type: 'vad',
      track: 0,
      event: { type: 'speech-start', startMs: this.positionMs - 256, audio: new Float32Array(0) },
      segmentId,
    });
    this.windows(speechMs - 256, 0.9);
    this.windows(576, 0.05);
    const speechEndWallMs = performance.now();
    this.signals.next({
      type: 'vad',
      track: 0,
      event: { type: 'speech-end', startMs: 0, endMs: this.positionMs, audio: new Float32Array(0) },
      segmentId,
      speechEndWallMs,
    });
    this.signals.next({
      type: 'final',
      track: 0,
      segmentId,
      text,
      startMs: 0,
      endMs: this.positionMs,
      speechEndWallMs,
      finalWallMs: performance.now(),
    });
  }

  async until(test: () => boolean, timeoutMs = 5000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!test()) {
      if (performance.now() > end)
        throw new Error(
          `timed out; events: ${this.events()
            .map((e) => e.type)
            .join(',')}`,
        );
      await sleep(5);
    }
  }

  close(): void {
    this.signals.complete();
    this.sub.unsubscribe();
  }
}

describe('turnPipeline', () => {
  let h: Harness | undefined;
  afterEach(() => h?.close());

  it('answers a final transcript: started, text deltas, paced audio, done with timings', async () => {
    const llm = new LlmTestDouble({ reply: 'Hello there. How can I help?' });
    h = new Harness(llm, new TtsTestDouble({ msPerChar: 10 }));
    h.utterance('hi');
    await h.until(() => h!.of('response.done').length === 1);

    const types = h.events().map((e) => e.type);
    expect(types[0]).toBe('response.started');
    expect(types.filter((t) => t === 'response.text.delta').length).toBeGreaterThan(3);
    const done = h.of('response.done')[0]!;
    expect(done.text).toBe('Hello there. How can I help?');
    expect(done.audioMs).toBe(h.audio().length * 20);
    const t = done.timings;
    expect(t.voiceToVoiceMs).toBeTypeOf('number');
    expect(t.speechEndToFinalMs).toBeTypeOf('number');
    const stages =
      t.speechEndToFinalMs! +
      t.finalToLlmFirstTokenMs! +
      t.llmFirstTokenToTtsFirstAudioMs! +
      t.ttsFirstAudioToFirstFrameMs!;
    expect(stages).toBe(t.voiceToVoiceMs);
    expect(t.modelComputeMs! + t.queueWaitMs! + t.serverOverheadMs!).toBe(t.voiceToVoiceMs);
    expect(t.serverOverheadMs).toBeGreaterThanOrEqual(0);
    expect(t.ttsComputeMs).toBeTypeOf('number');
    expect(llm.calls[0]!.messages.at(-1)).toEqual({ role: 'user', content: 'hi' });
    expect(h.conversation.messages.slice(-2)).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Hello there. How can I help?' },
    ]);
    expect(h.states).toEqual(['user-speaking', 'thinking', 'agent-speaking', 'listening']);
  });

  it('cancels on barge-in: engines aborted, no audio after the decision, only the heard part kept', async () => {
    const llm = new LlmTestDouble({
      reply: 'One two three four five six seven eight. Nine ten eleven twelve thirteen fourteen.',
      tokenDelayMs: 5,
    });
    const tts = new TtsTestDouble({ msPerChar: 40, chunkDelayMs: 5 });
    h = new Harness(llm, tts);
    h.utterance('tell me something');
    await h.until(() => h!.audio().length >= 30);

    h.windows(288, 0.9);
    expect(h.of('response.cancelled')).toHaveLength(0);
    h.windows(32, 0.9);
    const cancelled = h.of('response.cancelled')[0]!;
    expect(cancelled).toMatchObject({ reason: 'barge-in', clearAudio: true });
    const cutAt = h.outputs.length;
    await sleep(150);

    expect(h.outputs.slice(cutAt).some((o) => o.kind === 'audio')).toBe(false);
    expect(llm.calls[0]!.aborted || tts.calls.some((c) => c.aborted)).toBe(true);
    const sentMs = h.audio().length * 20;
    expect(cancelled.playedMs).toBeGreaterThan(0);
    expect(cancelled.playedMs).toBeLessThanOrEqual(sentMs);
    expect('One two three four five six seven eight.'.startsWith(cancelled.playedText)).toBe(true);
    expect(h.conversation.messages.at(-1)).toEqual({
      role: 'assistant',
      content: cancelled.playedText,
    });
    expect(h.of('response.done')).toHaveLength(0);
  });

  it('uses the client playback position for playedMs when it reports one', async () => {
    h = new Harness(
      new LlmTestDouble({ reply: 'A fairly long answer that keeps going for a while here.' }),
      new TtsTestDouble({ msPerChar: 40, chunkDelayMs: 5 }),
    );
    h.utterance('question');
    await h.until(() => h!.audio().length >= 20);
    const responseId = h.of('response.started')[0]!.responseId;
    h.signals.next({ type: 'playback', responseId, playedMs: 100 });
    h.windows(320, 0.9);
    const cancelled = h.of('response.cancelled')[0]!;
    // The reported position, carried forward by the time since the report (so not a fixed
    // number), and never past what was sent.
    expect(cancelled.playedMs).toBeGreaterThanOrEqual(100);
    expect(cancelled.playedMs).toBeLessThanOrEqual(h.audio(responseId).length * 20);
  });

  it('lets a burst shorter than bargeInMinMs pass and finishes the reply', async () => {
    h = new Harness(
      new LlmTestDouble({ reply: 'Short answer here.' }),
      new TtsTestDouble({ msPerChar: 30 }),
    );
    h.utterance('question');
    await h.until(() => h!.audio().length >= 5);
    h.windows(256, 0.9);
    h.windows(320, 0.05);
    h.windows(192, 0.9);
    await h.until(() => h!.of('response.done').length === 1);
    expect(h.of('response.cancelled')).toHaveLength(0);
  });

  it('stops a reply interrupted before any audio and merges its unheard turn into the next', async () => {
    // The first token is far off, so the second utterance surely lands before any audio.
    const llm = new LlmTestDouble({ reply: 'Reply text.', firstTokenDelayMs: 1500 });
    h = new Harness(llm, new TtsTestDouble({ msPerChar: 20 }));
    h.utterance('he was not an ill disposed young man');
    await sleep(20);
    h.utterance('unless to be rather cold hearted');
    await h.until(() => h!.of('response.done').length === 1);

    const [cancelled] = h.of('response.cancelled');
    expect(cancelled).toMatchObject({ reason: 'barge-in', playedMs: 0, playedText: '' });
    const [first, second] = h.of('response.started');
    expect(h.audio(first!.responseId)).toHaveLength(0);
    expect(llm.calls[0]!.aborted).toBe(true);
    expect(llm.calls[1]!.messages.at(-1)).toEqual({
      role: 'user',
      content: 'he was not an ill disposed young man unless to be rather cold hearted',
    });
    expect(h.of('response.done')[0]!.responseId).toBe(second!.responseId);
  });

  it('ignores a final that did not barge in while the agent speaks', async () => {
    h = new Harness(
      new LlmTestDouble({ reply: 'Some answer for you.' }),
      new TtsTestDouble({ msPerChar: 40 }),
    );
    h.utterance('question');
    await h.until(() => h!.audio().length >= 3);
    h.signals.next({
      type: 'final',
      track: 0,
      segmentId: 'noise',
      text: 'Thank you.',
      startMs: 0,
      endMs: 0,
      speechEndWallMs: 0,
      finalWallMs: 0,
    });
    await h.until(() => h!.of('response.done').length === 1);
    expect(h.of('response.started')).toHaveLength(1);
  });

  it('cancels the reply in flight for typed input (new-turn)', async () => {
    h = new Harness(
      new LlmTestDouble({ reply: 'An answer that takes some time to say.' }),
      new TtsTestDouble({ msPerChar: 40 }),
    );
    h.signals.next({ type: 'text', text: 'first', id: 'text:1', wallMs: performance.now() });
    await h.until(() => h!.audio().length >= 3);
    h.signals.next({ type: 'text', text: 'second', id: 'text:2', wallMs: performance.now() });
    expect(h.of('response.cancelled')[0]).toMatchObject({ reason: 'new-turn' });
    expect(h.of('response.started')[1]).toMatchObject({ inReplyTo: 'text:2' });
  });

  describe('engine failures fail the turn with a coded, recoverable error; the next turn works', () => {
    const cases = [
      { name: 'LLM throws', llm: { fault: 'throw' as const }, tts: {}, code: 'UT_ERR_LLM_FAILED' },
      { name: 'LLM hangs', llm: { fault: 'hang' as const }, tts: {}, code: 'UT_ERR_LLM_TIMEOUT' },
      { name: 'TTS throws', llm: {}, tts: { fault: 'throw' as const }, code: 'UT_ERR_TTS_FAILED' },
      { name: 'TTS hangs', llm: {}, tts: { fault: 'hang' as const }, code: 'UT_ERR_TTS_TIMEOUT' },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const llm = new LlmTestDouble(c.llm);
        const tts = new TtsTestDouble(c.tts);
        h = new Harness(llm, tts, { 'llm.timeoutMs': 200, 'tts.timeoutMs': 200 });
        h.utterance('hello');
        await h.until(() => h!.of('error').length === 1);
        expect(h.of('error')[0]).toMatchObject({ code: c.code, recoverable: true });
        expect(h.of('response.cancelled')[0]).toMatchObject({ reason: 'error' });
        if (c.llm.fault === 'hang') expect(llm.calls[0]!.aborted).toBe(true);
        if (c.tts.fault === 'hang') expect(tts.calls[0]!.aborted).toBe(true);

        // The session goes on: a working engine pair answers the next turn.
        Object.assign(llm, { options: {} });
        Object.assign(tts, { options: { msPerChar: 5 } });
        h.utterance('again');
        await h.until(() => h!.of('response.done').length === 1);
      });
    }
  });
});
