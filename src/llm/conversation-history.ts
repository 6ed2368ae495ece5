/**
 * Per-session conversation history within a token budget (config `llm.historyTokens`).
 *
 * The system prompt (config `llm.systemPrompt`) is always first and always kept; the oldest turns
 * are dropped first, and a window never starts with an assistant turn (several chat templates
 * reject that). After a barge-in, `replaceLastAssistant` keeps only the words the caller heard.
 */
import type { ChatMessage } from './types.js';

/** How the caller sounded, attached to their turn as a short note the model can read. */
export interface EmotionContext {
  /** A word such as `frustrated`, `calm`, `happy`. */
  label: string;
  /** 0 (calm) to 1 (agitated). */
  arousal?: number;
  /** -1 (negative) to 1 (positive). */
  valence?: number;
}

export interface ConversationHistoryOptions {
  systemPrompt: string;
  /** Budget for the system prompt plus turns, in tokens. */
  historyTokens: number;
  /** Token counter of the engine in use (`LlmEngine.countTokens`); default `estimateTokens`. */
  countTokens?: (text: string) => number;
}

/** Tokens each message costs beyond its text (role markers of chat templates). */
const MESSAGE_OVERHEAD_TOKENS = 4;
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;

/** Rough token count for engines without a tokenizer: ~4 characters a token, CJK one each. */
export function estimateTokens(text: string): number {
  const unspaced = text.match(UNSPACED)?.length ?? 0;
  return unspaced + Math.ceil((text.length - unspaced) / 4);
}

/** `(caller sounds frustrated, arousal 0.6)`. */
export function formatEmotionNote(emotion: EmotionContext): string {
  const parts = [`caller sounds ${emotion.label}`];
  if (emotion.arousal !== undefined) parts.push(`arousal ${emotion.arousal.toFixed(1)}`);
  if (emotion.valence !== undefined) parts.push(`valence ${emotion.valence.toFixed(1)}`);
  return `(${parts.join(', ')})`;
}

interface Turn {
  message: ChatMessage;
  tokens: number;
}

export class ConversationHistory {
  private readonly turns: Turn[] = [];
  private readonly count: (text: string) => number;
  private readonly systemTokens: number;

  constructor(private readonly options: ConversationHistoryOptions) {
    this.count = options.countTokens ?? estimateTokens;
    this.systemTokens = options.systemPrompt
      ? this.count(options.systemPrompt) + MESSAGE_OVERHEAD_TOKENS
      : 0;
  }

  /** Adds what the caller said, with an optional note on how they sounded. */
  addUser(text: string, emotion?: EmotionContext): void {
    const content = emotion ? `${text} ${formatEmotionNote(emotion)}` : text;
    this.add({ role: 'user', content });
  }

  /** Adds the agent's reply. */
  addAssistant(text: string): void {
    this.add({ role: 'assistant', content: text });
  }

  /**
   * Replaces the last assistant turn with the part actually played before a barge-in; an empty
   * text removes the turn. Does nothing when the last turn is not the assistant's.
   */
  replaceLastAssistant(text: string): void {
    const last = this.turns.at(-1);
    if (last?.message.role !== 'assistant') return;
    this.turns.pop();
    if (text.trim()) this.addAssistant(text.trim());
  }

  /** The messages to send: system prompt, then the newest turns that fit the budget. */
  messages(): ChatMessage[] {
    const system: ChatMessage[] = this.options.systemPrompt
      ? [{ role: 'system', content: this.options.systemPrompt }]
      : [];
    return [...system, ...this.turns.map((t) => t.message)];
  }

  /** Tokens the current window costs, system prompt included. */
  get tokens(): number {
    return this.turns.reduce((sum, t) => sum + t.tokens, this.systemTokens);
  }

  get turnCount(): number {
    return this.turns.length;
  }

  clear(): void {
    this.turns.length = 0;
  }

  private add(message: ChatMessage): void {
    this.turns.push({ message, tokens: this.count(message.content) + MESSAGE_OVERHEAD_TOKENS });
    this.trim();
  }

  /** Drops the oldest turns until the budget holds; the newest turn stays even when alone too big. */
  private trim(): void {
    while (this.turns.length > 1 && this.tokens > this.options.historyTokens) this.turns.shift();
    while (this.turns.length > 1 && this.turns[0]!.message.role === 'assistant') this.turns.shift();
  }
}
