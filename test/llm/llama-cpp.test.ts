import { join } from 'node:path';
import { GeneralChatWrapper } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlamaCppEngine } from '../../src/llm/engines/llama-cpp.js';
import { transcriptPrompt } from '../../src/llm/transcript-prompt.js';
import type { ChatMessage } from '../../src/llm/types.js';
import { describeWithSharedModels, SHARED_MODELS_DIR } from '../helpers/shared-audio.js';

const MODEL = join(SHARED_MODELS_DIR, 'stories260K.gguf');
const STORY: ChatMessage[] = [
  { role: 'system', content: 'You tell stories.' },
  { role: 'user', content: 'Tell me about Lily and her dog.' },
];

describe('transcriptPrompt', () => {
  it('writes a plain transcript that ends with the assistant cue', () => {
    const prompt = transcriptPrompt([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'How are you?' },
    ]);
    expect(prompt).toBe('Be brief.\n\nUser: Hi\nAssistant: Hello.\nUser: How are you?\nAssistant:');
  });
});

describeWithSharedModels('LlamaCppEngine on stories260K', () => {
  let engine: LlamaCppEngine;

  beforeAll(async () => {
    engine = await LlamaCppEngine.create({
      modelPath: MODEL,
      threads: 1,
      maxConcurrent: 1,
      temperature: 0,
    });
  });
  afterAll(async () => engine?.close());

  it('falls back to the transcript prompt for a model without a chat template', () => {
    expect(engine.usesChatTemplate).toBe(false);
    expect(engine.countTokens('Once upon a time there was a girl.')).toBeGreaterThan(3);
  });

  it('streams a reply in several pieces', async () => {
    const pieces: string[] = [];
    for await (const piece of engine.generate(STORY, { maxTokens: 30 })) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join('').trim().length).toBeGreaterThan(5);
    expect(['maxTokens', 'eogToken', 'customStopTrigger']).toContain(engine.stats().lastStopReason);
  });

  it('stops generating inside the engine when the signal aborts, and the sequence is reused', async () => {
    const controller = new AbortController();
    const pieces: string[] = [];
    for await (const piece of engine.generate(STORY, {
      maxTokens: 400,
      signal: controller.signal,
    })) {
      pieces.push(piece);
      if (pieces.length === 5) controller.abort();
    }

    const after = engine.stats();
    expect(after.lastStopReason).toBe('abort');
    expect(after.activeGenerations).toBe(0);
    expect(pieces.length).toBeLessThan(10);
    // The generation promise settled before the loop ended: no token may be counted later.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(engine.stats().tokensGenerated).toBe(after.tokensGenerated);

    // maxConcurrent is 1, so this reply runs on the very sequence the aborted one used.
    const again: string[] = [];
    for await (const piece of engine.generate(STORY, { maxTokens: 20 })) again.push(piece);
    expect(again.length).toBeGreaterThan(3);
    expect(engine.stats().lastStopReason).not.toBe('abort');
  });

  it('stops the engine when the consumer leaves the loop early', async () => {
    let count = 0;
    for await (const _ of engine.generate(STORY, { maxTokens: 400 })) {
      if (++count === 3) break;
    }
    expect(engine.stats().lastStopReason).toBe('abort');
    expect(engine.stats().idleSequences).toBe(1);
  });

  it('yields nothing for an already aborted signal', async () => {
    const pieces: string[] = [];
    for await (const piece of engine.generate(STORY, { signal: AbortSignal.abort() }))
      pieces.push(piece);
    expect(pieces).toEqual([]);
  });

  it('queues a second generation until the only sequence is free', async () => {
    const collect = async (): Promise<string> => {
      let text = '';
      for await (const piece of engine.generate(STORY, { maxTokens: 15 })) text += piece;
      return text;
    };
    const [a, b] = await Promise.all([collect(), collect()]);
    expect(a.length).toBeGreaterThan(0);
    expect(b).toBe(a); // greedy decoding on the same prompt
    expect(engine.stats().waiting).toBe(0);
  });

  it('drops a waiting generation when its signal aborts', async () => {
    // Long enough to hold the only sequence for the whole test; ended below.
    const first = engine.generate(STORY, { maxTokens: 5000 })[Symbol.asyncIterator]();
    await first.next();
    const controller = new AbortController();
    const waiting = (async () => {
      const pieces: string[] = [];
      for await (const piece of engine.generate(STORY, { signal: controller.signal }))
        pieces.push(piece);
      return pieces;
    })();
    // Wait until the second generation queues for the sequence (no fixed sleep).
    for (let i = 0; i < 500 && engine.stats().waiting === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(engine.stats().waiting).toBe(1);
    controller.abort();
    expect(await waiting).toEqual([]);
    await first.return?.();
    expect(engine.stats().waiting).toBe(0);
  });
});

describeWithSharedModels('LlamaCppEngine with a chat format (LlamaChat path)', () => {
  let engine: LlamaCppEngine;

  beforeAll(async () => {
    // stories260K has no template of its own; a forced chat wrapper runs the code path that
    // models with one take.
    engine = await LlamaCppEngine.create({
      modelPath: MODEL,
      threads: 1,
      maxConcurrent: 1,
      temperature: 0,
      chatFormat: new GeneralChatWrapper(),
    });
  });
  afterAll(async () => engine?.close());

  it('streams a reply to a multi-turn history and stops on abort', async () => {
    expect(engine.usesChatTemplate).toBe(true);
    const history: ChatMessage[] = [
      ...STORY,
      { role: 'assistant', content: 'Once upon a time.' },
      { role: 'user', content: 'More!' },
    ];
    const pieces: string[] = [];
    for await (const piece of engine.generate(history, { maxTokens: 20 })) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(1);

    const controller = new AbortController();
    let count = 0;
    for await (const _ of engine.generate(history, { maxTokens: 400, signal: controller.signal })) {
      if (++count === 3) controller.abort();
    }
    expect(count).toBe(3);
    expect(engine.stats().lastStopReason).toBe('abort');
  });
});

describe('LlamaCppEngine errors', () => {
  it('reports a missing model file with a coded error', async () => {
    await expect(
      LlamaCppEngine.create({ modelPath: '/nonexistent/model.gguf', threads: 1 }),
    ).rejects.toMatchObject({
      code: 'UT_ERR_MODEL_MISSING',
    });
  });
});

describeWithSharedModels('LlamaCppEngine.close while generating', () => {
  it('aborts generations in flight and waits for them before freeing the model', async () => {
    const engine = await LlamaCppEngine.create({ modelPath: MODEL, threads: 1, maxConcurrent: 1 });
    const pieces: string[] = [];
    const consumer = (async () => {
      for await (const piece of engine.generate(STORY, { maxTokens: 2000 })) {
        pieces.push(piece);
        if (pieces.length === 3) void engine.close();
      }
    })();
    // Ends quietly, without "Object is disposed" from a step after the close.
    await expect(consumer).resolves.toBeUndefined();
    expect(pieces.length).toBeLessThan(2000);
    expect(engine.stats().activeGenerations).toBe(0);
  });
});
