export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  maxTokens?: number;
  temperature?: number;
}

/** A language model that streams its reply token by token and stops when `signal` aborts. */
export interface LlmEngine {
  readonly name: string;
  /** Yields text pieces as they are generated. Aborting the signal ends generation in the engine. */
  generate(messages: ChatMessage[], options?: GenerateOptions): AsyncIterable<string>;
  /** Token count of a text, for the history budget (an estimate where the engine has no tokenizer). */
  countTokens(text: string): number;
  close(): Promise<void>;
}
