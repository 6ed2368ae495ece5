import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransformersLocalEngine } from '../../src/llm/engines/transformers-local.js';
import type { ChatMessage } from '../../src/llm/types.js';
import { ensureFixtures } from '../../src/models/fixtures/index.js';

const MESSAGES: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hello, how are you?' },
];

describe('TransformersLocalEngine on the llama-tiny-random fixture', () => {
  let engine: TransformersLocalEngine;

  beforeAll(async () => {
    const folders = await ensureFixtures(undefined, ['llama-tiny-random']);
    engine = await TransformersLocalEngine.create({
      modelDir: folders['llama-tiny-random']!,
      temperature: 0,
    });
  });
  afterAll(async () => engine?.close());

  it('formats prompts with the chat template and counts tokens', () => {
    expect(engine.usesChatTemplate).toBe(true);
    expect(engine.countTokens('hello world, this is a test')).toBeGreaterThan(2);
  });

  it('streams the reply piece by piece', async () => {
    const pieces: string[] = [];
    const before = engine.tokensGenerated;
    for await (const piece of engine.generate(MESSAGES, { maxTokens: 12 })) pieces.push(piece);
    const tokens = engine.tokensGenerated - before;
    expect(tokens).toBeGreaterThan(1);
    expect(tokens).toBeLessThanOrEqual(12);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((p) => p.length > 0)).toBe(true);
  });

  it('is deterministic when greedy', async () => {
    const run = async () => {
      let text = '';
      for await (const piece of engine.generate(MESSAGES, { maxTokens: 8 })) text += piece;
      return text;
    };
    expect(await run()).toBe(await run());
  });

  it('stops generate() when the signal aborts and yields nothing after', async () => {
    const controller = new AbortController();
    const pieces: string[] = [];
    const before = engine.tokensGenerated;
    for await (const piece of engine.generate(MESSAGES, {
      maxTokens: 500,
      signal: controller.signal,
    })) {
      pieces.push(piece);
      if (pieces.length === 3) controller.abort();
    }
    expect(pieces).toHaveLength(3);
    expect(engine.activeGenerations).toBe(0);
    const tokens = engine.tokensGenerated - before;
    expect(tokens).toBeLessThan(20); // 500 were allowed: the loop stopped right after the abort
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(engine.tokensGenerated - before).toBe(tokens);
  });

  it('yields nothing for an already aborted signal', async () => {
    const pieces: string[] = [];
    for await (const piece of engine.generate(MESSAGES, { signal: AbortSignal.abort() }))
      pieces.push(piece);
    expect(pieces).toEqual([]);
  });

  it('reports a missing folder with a coded error', async () => {
    await expect(
      TransformersLocalEngine.create({ modelDir: '/nonexistent/model' }),
    ).rejects.toMatchObject({
      code: 'UT_ERR_MODEL_MISSING',
    });
  });
});
