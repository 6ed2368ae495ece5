import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiSpeechEngine } from '../../src/tts/engines/openai-speech.js';
import { Pcm16Decoder, WavStreamDecoder } from '../../src/tts/engines/pcm-stream.js';
import {
  startOpenAiSpeechTestDouble,
  toneSamples,
  wavHeader,
  type OpenAiSpeechTestDouble,
} from './openai-speech-test-double.js';

async function collect(stream: AsyncIterable<Float32Array>): Promise<Float32Array> {
  const chunks: Float32Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), (at += c.length));
  return out;
}

function expectTone(audio: Float32Array, rateHz: number): void {
  const tone = toneSamples(rateHz);
  expect(audio.length).toBe(tone.length);
  for (let i = 0; i < tone.length; i += 97) expect(audio[i]).toBeCloseTo(tone[i]! / 32768, 6);
}

describe('OpenAiSpeechEngine against a test double', () => {
  let server: OpenAiSpeechTestDouble;

  beforeAll(async () => {
    server = await startOpenAiSpeechTestDouble({ kind: 'tone' });
  });
  afterAll(async () => server.close());

  const engine = (extra: Partial<ConstructorParameters<typeof OpenAiSpeechEngine>[0]> = {}) =>
    new OpenAiSpeechEngine({
      url: server.url,
      apiKey: 'sk-test-key',
      model: 'tts-x',
      voice: 'nova',
      timeoutMs: 1000,
      ...extra,
    });

  it('streams raw 24 kHz PCM split at odd byte counts', async () => {
    server.behavior = { kind: 'tone', sliceBytes: 333 };
    const tts = engine();
    expect(tts.sampleRateHz).toBe(24_000);
    const chunks: Float32Array[] = [];
    for await (const c of tts.synthesize('Hello there.', { voice: 'echo' })) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(5); // arrived piece by piece, not as one file
    expectTone(Float32Array.from(chunks.flatMap((c) => Array.from(c))), 24_000);

    const request = server.requests.at(-1)!;
    expect(request.path).toBe('/v1/audio/speech');
    expect(request.headers.authorization).toBe('Bearer sk-test-key');
    expect(request.body).toEqual({
      model: 'tts-x',
      input: 'Hello there.',
      voice: 'echo',
      response_format: 'pcm',
    });
  });

  it('reads WAV with an exact data size, ignoring chunks after the data', async () => {
    server.behavior = { kind: 'tone', sliceBytes: 31, wavSize: 'exact', rateHz: 16_000 };
    expectTone(
      await collect(engine({ format: 'wav', sampleRateHz: 16_000 }).synthesize('Hi.')),
      16_000,
    );
  });

  it('reads streamed WAV whose header leaves the size open', async () => {
    server.behavior = { kind: 'tone', sliceBytes: 29, wavSize: 'open' };
    expectTone(await collect(engine({ format: 'wav' }).synthesize('Hi.')), 24_000);
  });

  it('rejects WAV at another rate than configured', async () => {
    server.behavior = { kind: 'tone', wavSize: 'exact', rateHz: 22_050 };
    await expect(collect(engine({ format: 'wav' }).synthesize('Hi.'))).rejects.toMatchObject({
      code: 'UT_ERR_TTS_FAILED',
    });
  });

  it('fails with UT_ERR_TTS_FAILED and the server message on an HTTP error', async () => {
    server.behavior = {
      kind: 'http-error',
      status: 400,
      body: '{"error":{"message":"unknown voice"}}',
    };
    const err = await collect(engine().synthesize('Hi.')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UT_ERR_TTS_FAILED', category: 'bad-input' });
    expect((err as Error).message).toContain('unknown voice');
  });

  it('times out when the server never answers', async () => {
    server.behavior = { kind: 'hang' };
    await expect(collect(engine({ timeoutMs: 300 }).synthesize('Hi.'))).rejects.toMatchObject({
      code: 'UT_ERR_TTS_TIMEOUT',
    });
  });

  it('times out when the audio stalls midway', async () => {
    server.behavior = { kind: 'stall', bytes: 4800 };
    await expect(collect(engine({ timeoutMs: 300 }).synthesize('Hi.'))).rejects.toMatchObject({
      code: 'UT_ERR_TTS_TIMEOUT',
    });
  });

  it('closes the connection and ends quietly when the signal aborts', async () => {
    server.behavior = { kind: 'endless', intervalMs: 5 };
    const gone = server.clientGone();
    const controller = new AbortController();
    let chunks = 0;
    for await (const _ of engine().synthesize('Go on.', { signal: controller.signal })) {
      if (++chunks === 3) controller.abort();
    }
    expect(chunks).toBe(3);
    await gone;
  });

  it('sends nothing for empty text or an aborted signal', async () => {
    const before = server.requests.length;
    expect((await collect(engine().synthesize('  '))).length).toBe(0);
    expect(
      (await collect(engine().synthesize('Hi.', { signal: AbortSignal.abort() }))).length,
    ).toBe(0);
    expect(server.requests.length).toBe(before);
  });

  it('fails with a network error when nothing listens', async () => {
    const dead = new OpenAiSpeechEngine({ url: 'http://127.0.0.1:1/v1', timeoutMs: 2000 });
    await expect(collect(dead.synthesize('Hi.'))).rejects.toMatchObject({
      code: 'UT_ERR_TTS_FAILED',
      category: 'network',
    });
  });
});

describe('pcm-stream decoders', () => {
  it('joins a sample split across pushes', () => {
    const decoder = new Pcm16Decoder();
    const bytes = new Uint8Array(new Int16Array([16384, -16384]).buffer);
    expect(Array.from(decoder.push(bytes.subarray(0, 3)))).toEqual([0.5]);
    expect(Array.from(decoder.push(bytes.subarray(3)))).toEqual([-0.5]);
    expect(decoder.end()).toBe(0);
  });

  it('averages stereo frames to mono', () => {
    const decoder = new Pcm16Decoder(2);
    expect(Array.from(decoder.push(new Uint8Array(new Int16Array([16384, 0]).buffer)))).toEqual([
      0.25,
    ]);
  });

  it('rejects a body that is not WAV, and one cut inside its header', () => {
    expect(() =>
      new WavStreamDecoder(24_000).push(new TextEncoder().encode('<html>not audio</html>')),
    ).toThrow();
    const cut = new WavStreamDecoder(24_000);
    expect(cut.push(wavHeader(24_000, 100).subarray(0, 20)).length).toBe(0);
    expect(() => cut.end()).toThrow();
  });
});
