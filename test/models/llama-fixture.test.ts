import {
  env,
  pipeline,
  TextStreamer,
  type TextGenerationPipeline,
} from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureFixtures } from '../../src/models/fixtures/index.js';

type Message = { role: string; content: string };

describe('llama-tiny-random through the transformers.js text-generation pipeline', () => {
  let generator: TextGenerationPipeline;

  beforeAll(async () => {
    const folders = await ensureFixtures(undefined, ['llama-tiny-random']);
    env.allowRemoteModels = false;
    generator = await pipeline('text-generation', folders['llama-tiny-random']!, { dtype: 'fp32' });
  });

  it('applies the ChatML chat template', () => {
    const prompt = generator.tokenizer.apply_chat_template([{ role: 'user', content: 'hi' }], {
      tokenize: false,
      add_generation_prompt: true,
    });
    expect(prompt).toBe('<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
  });

  it('streams a reply token by token that matches the final text', async () => {
    const tokens: bigint[][] = [];
    const pieces: string[] = [];
    const streamer = new TextStreamer(generator.tokenizer, {
      skip_prompt: true,
      skip_special_tokens: true,
      callback_function: (text: string) => pieces.push(text),
      token_callback_function: (ids: bigint[]) => tokens.push(ids),
    });
    const chat = [
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'hello there' },
    ];
    const out = (await generator(chat, { max_new_tokens: 40, do_sample: false, streamer })) as {
      generated_text: Message[];
    }[];
    const reply = out[0]!.generated_text.at(-1)!;
    expect(reply.role).toBe('assistant');
    expect(reply.content.trim().length).toBeGreaterThan(0);
    expect(tokens.length).toBeGreaterThan(1);
    expect(pieces.join('').trim()).toBe(reply.content.trim());
  });

  it('ends replies with <|im_end|> before the token limit', async () => {
    const out = (await generator([{ role: 'user', content: 'tell me about the river' }], {
      max_new_tokens: 200,
      do_sample: false,
      return_full_text: false,
    })) as { generated_text: string | Message[] }[];
    const reply = out[0]!.generated_text;
    const text = typeof reply === 'string' ? reply : reply.at(-1)!.content;
    expect(generator.tokenizer.encode(text, { add_special_tokens: false }).length).toBeLessThan(
      200,
    );
  });
});
