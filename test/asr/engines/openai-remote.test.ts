import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiRemoteAsr } from '../../../src/asr/engines/openai-remote.js';
import { isUndertoneError } from '../../../src/errors/undertone-error.js';
import {
  startTranscriptionsTestDouble,
  type TranscriptionsTestDouble,
} from '../openai-transcriptions-test-double.js';

const tone = (ms: number) =>
  Float32Array.from({ length: ms * 16 }, (_, i) => 0.25 * Math.sin(i / 5));

describe('openai-remote asr engine', () => {
  let server: TranscriptionsTestDouble;
  beforeAll(async () => {
    server = await startTranscriptionsTestDouble();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.mode = 'verbose';
    server.requests = [];
  });

  it('sends a 16 kHz WAV with model, language, prompt and verbose_json', async () => {
    const engine = createOpenAiRemoteAsr({
      url: server.url,
      apiKey: 'sk-test-key',
      model: 'whisper-x',
    });
    const audio = tone(1000);
    const result = await engine.transcribe(audio, { language: 'en', prompt: 'earlier words' });

    const sent = server.requests[0]!;
    expect(sent.fields.model).toEqual(['whisper-x']);
    expect(sent.fields.language).toEqual(['en']);
    expect(sent.fields.prompt).toEqual(['earlier words']);
    expect(sent.fields.response_format).toEqual(['verbose_json']);
    expect(sent.fields['timestamp_granularities[]']).toEqual(['segment', 'word']);
    expect(sent.authorization).toBe('Bearer sk-test-key');
    expect(sent.sampleRateHz).toBe(16_000);
    expect(sent.samples.length).toBe(audio.length);
    expect(Math.abs(sent.samples[100]! - audio[100]!)).toBeLessThan(1e-4);

    expect(result.text).toBe('hello there world');
    expect(result.language).toBe('en');
    expect(result.segments.map((s) => s.text)).toEqual(['hello there', 'world']);
    expect(result.segments[1]!.endMs).toBe(1000);
    expect(result.words?.length).toBe(3);
    expect(result.noSpeechProb).toBeCloseTo(0.03);
    expect(result.avgLogprob).toBeCloseTo(-0.3);
  });

  it('falls back to plain json when the server refuses verbose_json', async () => {
    server.mode = 'json-only';
    const engine = createOpenAiRemoteAsr({ url: server.url });
    const first = await engine.transcribe(tone(500));
    const second = await engine.transcribe(tone(500));
    expect(first.text).toBe('hello world');
    expect(first.segments).toEqual([{ text: 'hello world', startMs: 0, endMs: 500 }]);
    expect(second.text).toBe('hello world');
    expect(server.requests.map((r) => r.fields.response_format![0])).toEqual([
      'verbose_json',
      'json',
      'json',
    ]);
  });

  it('turns a server error into UT_ERR_ASR_FAILED', async () => {
    server.mode = 'error';
    const engine = createOpenAiRemoteAsr({ url: server.url });
    const err = await engine.transcribe(tone(200)).catch((e: unknown) => e);
    expect(isUndertoneError(err) && err.code).toBe('UT_ERR_ASR_FAILED');
    expect(isUndertoneError(err) && err.retryable).toBe(true);
  });

  it('turns invalid JSON into UT_ERR_ASR_FAILED', async () => {
    server.mode = 'bad-json';
    const engine = createOpenAiRemoteAsr({ url: server.url });
    const err = await engine.transcribe(tone(200)).catch((e: unknown) => e);
    expect(isUndertoneError(err) && err.code).toBe('UT_ERR_ASR_FAILED');
  });

  it('stops waiting and drops the connection when aborted', async () => {
    server.mode = 'hang';
    const engine = createOpenAiRemoteAsr({ url: server.url });
    const controller = new AbortController();
    const pending = engine
      .transcribe(tone(200), { signal: controller.signal })
      .catch((e: unknown) => e);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort(new Error('caller left'));
    const err = await pending;
    expect((err as Error).message).toBe('caller left');
    while (server.abortedCount === 0) await new Promise((r) => setTimeout(r, 5));
    expect(server.abortedCount).toBeGreaterThan(0);
  });

  it('gives up with UT_ERR_ASR_FAILED after its timeout', async () => {
    server.mode = 'hang';
    const engine = createOpenAiRemoteAsr({ url: server.url, timeoutMs: 100 });
    const err = await engine.transcribe(tone(200)).catch((e: unknown) => e);
    expect(isUndertoneError(err) && err.code).toBe('UT_ERR_ASR_FAILED');
    expect(isUndertoneError(err) && err.category).toBe('network');
  });

  it('reports an unreachable server as UT_ERR_ASR_FAILED', async () => {
    const engine = createOpenAiRemoteAsr({ url: 'http://127.0.0.1:9/v1', timeoutMs: 2000 });
    const err = await engine.transcribe(tone(100)).catch((e: unknown) => e);
    expect(isUndertoneError(err) && err.code).toBe('UT_ERR_ASR_FAILED');
  });
});
