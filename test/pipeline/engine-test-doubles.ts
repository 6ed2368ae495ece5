/**
 * Test doubles of remote LLM and TTS services (an OpenAI-compatible server behind the engine
 * interface), plus a recording wrapper for real engines. The doubles honour AbortSignals the way
 * a remote client does and can be told to fail or hang.
 */
import type { ChatMessage, GenerateOptions, LlmEngine } from '../../src/llm/types.js';
import type { SynthesizeOptions, TtsEngine } from '../../src/tts/types.js';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Wraps an engine and records the messages of every call and whether it was aborted. */
export class RecordingLlm implements LlmEngine {
  readonly calls: Array<{ messages: ChatMessage[]; aborted: boolean; text: string }> = [];

  constructor(private readonly inner: LlmEngine) {}

  get name(): string {
    return this.inner.name;
  }

  async *generate(messages: ChatMessage[], options: GenerateOptions = {}): AsyncIterable<string> {
    const call = { messages: structuredClone(messages), aborted: false, text: '' };
    this.calls.push(call);
    options.signal?.addEventListener('abort', () => (call.aborted = true), { once: true });
    for await (const token of this.inner.generate(messages, options)) {
      call.text += token;
      yield token;
    }
  }

  countTokens(text: string): number {
    return this.inner.countTokens(text);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface LlmTestDoubleOptions {
  /** Reply text, streamed word by word. */
  reply?: string;
  tokenDelayMs?: number;
  firstTokenDelayMs?: number;
  /** `throw`: fails after the first token; `hang`: never yields. */
  fault?: 'throw' | 'hang';
}

/** A remote chat-completions service, scripted. */
export class LlmTestDouble implements LlmEngine {
  readonly name = 'llm-test-double';
  readonly calls: Array<{ messages: ChatMessage[]; aborted: boolean }> = [];

  constructor(private readonly options: LlmTestDoubleOptions = {}) {}

  async *generate(messages: ChatMessage[], options: GenerateOptions = {}): AsyncIterable<string> {
    const call = { messages: structuredClone(messages), aborted: false };
    this.calls.push(call);
    const signal = options.signal;
    signal?.addEventListener('abort', () => (call.aborted = true), { once: true });
    if (this.options.fault === 'hang') {
      await new Promise<void>((resolve) =>
        signal?.addEventListener('abort', () => resolve(), { once: true }),
      );
      return;
    }
    await sleep(this.options.firstTokenDelayMs ?? 5, signal);
    const words = (
      this.options.reply ?? 'Sure. I can help with that today. Let me check it for you.'
    ).split(/(?<= )/u);
    for (const [i, word] of words.entries()) {
      if (signal?.aborted) return;
      if (i === 1 && this.options.fault === 'throw') throw new Error('upstream 500');
      yield word;
      await sleep(this.options.tokenDelayMs ?? 2, signal);
    }
  }

  countTokens(text: string): number {
    return Math.ceil(text.length / 4);
  }

  async close(): Promise<void> {}
}

export interface TtsTestDoubleOptions {
  sampleRateHz?: number;
  /** Audio per character of text, ms (default 60). */
  msPerChar?: number;
  /** Source of the "voice": a recording played from where the last sentence stopped; else a tone. */
  voice?: Float32Array;
  chunkMs?: number;
  /** Delay before each chunk, ms (default 0: as fast as possible). */
  chunkDelayMs?: number;
  fault?: 'throw' | 'hang';
}

/** A remote speech service, scripted: duration follows the text length. */
export class TtsTestDouble implements TtsEngine {
  readonly name = 'tts-test-double';
  readonly sampleRateHz: number;
  readonly calls: Array<{ text: string; aborted: boolean }> = [];
  private voiceAt = 0;

  constructor(private readonly options: TtsTestDoubleOptions = {}) {
    this.sampleRateHz = options.sampleRateHz ?? 16_000;
  }

  async *synthesize(text: string, options: SynthesizeOptions = {}): AsyncIterable<Float32Array> {
    const call = { text, aborted: false };
    this.calls.push(call);
    const signal = options.signal;
    signal?.addEventListener('abort', () => (call.aborted = true), { once: true });
    if (this.options.fault === 'hang') {
      await new Promise<void>((resolve) =>
        signal?.addEventListener('abort', () => resolve(), { once: true }),
      );
      return;
    }
    if (this.options.fault === 'throw') throw new Error('speech service unavailable');

    const rate = this.sampleRateHz;
    const total = Math.round((text.length * (this.options.msPerChar ?? 60) * rate) / 1000);
    const chunk = Math.round(((this.options.chunkMs ?? 40) * rate) / 1000);
    for (let at = 0; at < total; at += chunk) {
      if (signal?.aborted) return;
      const n = Math.min(chunk, total - at);
      const out = new Float32Array(n);
      const voice = this.options.voice;
      for (let i = 0; i < n; i++) {
        out[i] = voice
          ? voice[this.voiceAt++ % voice.length]!
          : 0.3 * Math.sin((2 * Math.PI * 220 * (at + i)) / rate);
      }
      if (this.options.chunkDelayMs) await sleep(this.options.chunkDelayMs, signal);
      else await Promise.resolve();
      yield out;
    }
  }

  async close(): Promise<void> {}
}
