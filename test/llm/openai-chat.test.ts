import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OpenAiChatEngine,
  categoryOfStatus,
  errorBodyMessage,
} from '../../src/llm/engines/openai-chat.js';
import type { ChatMessage } from '../../src/llm/types.js';
import { startOpenAiChatTestDouble, type OpenAiChatTestDouble } from './openai-chat-test-double.js';

const MESSAGES: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hello?' },
];

async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const piece of stream) out.push(piece);
  return out;
}

describe('OpenAiChatEngine against a test double', () => {
  let server: OpenAiChatTestDouble;
  let engine: OpenAiChatEngine;

  beforeAll(async () => {
    server = await startOpenAiChatTestDouble({ kind: 'stream', pieces: [] });
    engine = new OpenAiChatEngine({
      url: server.url,
      apiKey: 'sk-test-key',
      model: 'tiny',
      timeoutMs: 1000,
    });
  });
  afterAll(async () => {
    await engine.close();
    await server.close();
  });

  it('streams deltas split across reads, with multi-byte characters', async () => {
    const pieces = ['Hel', 'lo, ', 'wörld ', '你好', '!'];
    server.behavior = { kind: 'stream', pieces, sliceBytes: 3 };
    expect(await collect(engine.generate(MESSAGES, { maxTokens: 12, temperature: 0.2 }))).toEqual(
      pieces,
    );

    const request = server.requests.at(-1)!;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe('Bearer sk-test-key');
    expect(request.body).toMatchObject({
      model: 'tiny',
      stream: true,
      max_tokens: 12,
      temperature: 0.2,
      messages: MESSAGES,
    });
  });

  it('reads CRLF-delimited events', async () => {
    server.behavior = { kind: 'stream', pieces: ['a', 'b'], sliceBytes: 1, crlf: true };
    expect(await collect(engine.generate(MESSAGES))).toEqual(['a', 'b']);
  });

  it('fails with UT_ERR_LLM_FAILED and the server message on an HTTP error', async () => {
    server.behavior = {
      kind: 'http-error',
      status: 500,
      body: '{"error":{"message":"model exploded"}}',
    };
    const err = await collect(engine.generate(MESSAGES)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UT_ERR_LLM_FAILED', category: 'upstream' });
    expect((err as Error).message).toContain('model exploded');
  });

  it('classifies 429 as rate-limit', async () => {
    server.behavior = { kind: 'http-error', status: 429, body: 'slow down' };
    await expect(collect(engine.generate(MESSAGES))).rejects.toMatchObject({
      code: 'UT_ERR_LLM_FAILED',
      category: 'rate-limit',
    });
  });

  it('fails on an error event inside the stream, after the deltas before it', async () => {
    server.behavior = { kind: 'stream-error', pieces: ['partial '], message: 'overloaded' };
    const got: string[] = [];
    const err = await (async () => {
      for await (const piece of engine.generate(MESSAGES)) got.push(piece);
    })().catch((e: unknown) => e);
    expect(got).toEqual(['partial ']);
    expect(err).toMatchObject({ code: 'UT_ERR_LLM_FAILED' });
  });

  it('fails on a stream cut short without [DONE]', async () => {
    server.behavior = { kind: 'truncated', pieces: ['a'] };
    await expect(collect(engine.generate(MESSAGES))).rejects.toMatchObject({
      code: 'UT_ERR_LLM_FAILED',
    });
  });

  it('fails on a malformed event', async () => {
    server.behavior = { kind: 'garbage' };
    await expect(collect(engine.generate(MESSAGES))).rejects.toMatchObject({
      code: 'UT_ERR_LLM_FAILED',
    });
  });

  it('times out with UT_ERR_LLM_TIMEOUT when the server never answers', async () => {
    server.behavior = { kind: 'hang' };
    await expect(collect(engine.generate(MESSAGES))).rejects.toMatchObject({
      code: 'UT_ERR_LLM_TIMEOUT',
    });
  });

  it('times out when the stream stalls after some deltas', async () => {
    server.behavior = { kind: 'stall', pieces: ['one ', 'two '] };
    const got: string[] = [];
    const err = await (async () => {
      for await (const piece of engine.generate(MESSAGES)) got.push(piece);
    })().catch((e: unknown) => e);
    expect(got).toEqual(['one ', 'two ']);
    expect(err).toMatchObject({ code: 'UT_ERR_LLM_TIMEOUT' });
  });

  it('closes the connection and ends quietly when the signal aborts', async () => {
    server.behavior = { kind: 'endless', intervalMs: 5 };
    const gone = server.clientGone();
    const controller = new AbortController();
    const got: string[] = [];
    for await (const piece of engine.generate(MESSAGES, { signal: controller.signal })) {
      got.push(piece);
      if (got.length === 3) controller.abort();
    }
    expect(got).toHaveLength(3);
    await gone; // the server saw the connection close
  });

  it('closes the connection when the consumer leaves the loop', async () => {
    server.behavior = { kind: 'endless', intervalMs: 5 };
    const gone = server.clientGone();
    for await (const _ of engine.generate(MESSAGES)) break;
    await gone;
  });

  it('fails with a network error when nothing listens', async () => {
    const dead = new OpenAiChatEngine({ url: 'http://127.0.0.1:1/v1', timeoutMs: 2000 });
    await expect(collect(dead.generate(MESSAGES))).rejects.toMatchObject({
      code: 'UT_ERR_LLM_FAILED',
      category: 'network',
    });
  });
});

describe('openai-chat helpers', () => {
  it('reads error messages from OpenAI-style and plain bodies', () => {
    expect(errorBodyMessage('{"error":{"message":"bad key"}}')).toBe('bad key');
    expect(errorBodyMessage('{"error":"nope"}')).toBe('nope');
    expect(errorBodyMessage('plain text')).toBe('plain text');
  });

  it('maps statuses to categories', () => {
    expect(categoryOfStatus(401)).toBe('auth');
    expect(categoryOfStatus(429)).toBe('rate-limit');
    expect(categoryOfStatus(400)).toBe('bad-input');
    expect(categoryOfStatus(503)).toBe('upstream');
  });
});
