/**
 * Any OpenAI-compatible chat server (OpenAI, llama.cpp's llama-server, vLLM, Ollama...):
 * `POST {url}/chat/completions` with `stream: true`, read as server-sent events.
 *
 * Failures become coded errors: `UT_ERR_LLM_TIMEOUT` when no event arrives within `timeoutMs`
 * (first token included), `UT_ERR_LLM_FAILED` for HTTP errors, error events, malformed chunks and
 * streams cut short. Aborting the caller's signal cancels the HTTP request (the server sees the
 * connection close) and ends the stream quietly.
 */
import { UndertoneError, type ErrorCategory } from '../../errors/undertone-error.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import { estimateTokens } from '../conversation-history.js';
import { linkedAbort } from '../push-queue.js';
import { SseParser } from '../sse-parser.js';
import type { ChatMessage, GenerateOptions, LlmEngine } from '../types.js';

export interface OpenAiChatEngineOptions {
  /** Base URL, e.g. `http://127.0.0.1:8000/v1` (config `llm.remote.url`). */
  url: string;
  apiKey?: string;
  /** Model name sent in requests. Default `default`. */
  model?: string;
  /** Longest wait for the next event (the first one included), in ms (config `llm.timeoutMs`). */
  timeoutMs?: number;
  maxTokens?: number;
  temperature?: number;
  logger?: Logger;
}

interface ChatChunk {
  choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
  error?: { message?: string } | string;
}

const TIMEOUT = Symbol('timeout');

/** Maps an HTTP status to the error category that decides retry. */
export function categoryOfStatus(status: number): ErrorCategory {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate-limit';
  if (status >= 400 && status < 500) return 'bad-input';
  return 'upstream';
}

/** The message of an OpenAI-style error body (`{"error":{"message":...}}`), else the raw text. */
export function errorBodyMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    const err = parsed.error;
    const message = typeof err === 'string' ? err : (err?.message ?? parsed.message);
    if (message) return message.slice(0, 300);
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, 300);
}

export class OpenAiChatEngine implements LlmEngine {
  readonly name = 'openai-chat';
  private readonly inFlight = new Set<AbortController>();
  private readonly log: Logger;

  constructor(private readonly options: OpenAiChatEngineOptions) {
    this.log = (options.logger ?? silentLogger).child({ stage: 'llm', engine: 'openai-chat' });
  }

  countTokens(text: string): number {
    return estimateTokens(text);
  }

  async *generate(messages: ChatMessage[], options: GenerateOptions = {}): AsyncIterable<string> {
    const { controller, dispose } = linkedAbort(options.signal);
    const timeoutMs = this.options.timeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    const armTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(TIMEOUT), timeoutMs);
    };
    this.inFlight.add(controller);

    try {
      armTimer();
      const response = await this.request(messages, options, controller.signal);
      const reader = response.body!.getReader();
      const parser = new SseParser();
      let finished = false;
      for (;;) {
        const { done, value } = await reader.read();
        const events = done ? parser.end() : parser.push(value);
        for (const data of events) {
          armTimer();
          if (data.trim() === '[DONE]') {
            finished = true;
            continue;
          }
          const chunk = parseChunk(data);
          const choice = chunk.choices?.[0];
          if (choice?.finish_reason) finished = true;
          const content = choice?.delta?.content;
          if (!content) continue;
          if (controller.signal.aborted) return;
          // A slow consumer (TTS) is not a slow server: the clock stops while the piece is handed on.
          clearTimeout(timer);
          yield content;
          armTimer();
        }
        if (done) break;
      }
      if (!finished) throw failed('stream ended before [DONE]', 'upstream');
    } catch (err) {
      const reason = controller.signal.reason;
      if (controller.signal.aborted && reason === TIMEOUT) {
        throw new UndertoneError(ERROR_CODES.llmTimeout, `no reply event within ${timeoutMs} ms`, {
          category: 'upstream',
        });
      }
      if (controller.signal.aborted) return;
      if (err instanceof UndertoneError) throw err;
      throw failed('request to the chat server failed', 'network', err);
    } finally {
      clearTimeout(timer);
      // Leaving early (break, abort, error) must close the connection, not leave it streaming.
      controller.abort();
      this.inFlight.delete(controller);
      dispose();
    }
  }

  private async request(
    messages: ChatMessage[],
    options: GenerateOptions,
    signal: AbortSignal,
  ): Promise<Response> {
    const response = await fetch(`${this.options.url.replace(/\/+$/u, '')}/chat/completions`, {
      method: 'POST',
      signal,
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: this.options.model ?? 'default',
        messages,
        stream: true,
        max_tokens: options.maxTokens ?? this.options.maxTokens ?? 200,
        temperature: options.temperature ?? this.options.temperature ?? 0.7,
      }),
    });
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      this.log.warn({ status: response.status }, 'chat server answered with an error');
      throw failed(
        `HTTP ${response.status}: ${errorBodyMessage(body)}`,
        categoryOfStatus(response.status),
      );
    }
    if (!response.body) throw failed('chat server sent no body', 'upstream');
    return response;
  }

  /** Cancels every request in flight. */
  async close(): Promise<void> {
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }
}

function parseChunk(data: string): ChatChunk {
  let chunk: ChatChunk;
  try {
    chunk = JSON.parse(data) as ChatChunk;
  } catch (err) {
    throw failed('malformed event from the chat server', 'upstream', err);
  }
  if (typeof chunk !== 'object' || chunk === null)
    throw failed('malformed event from the chat server', 'upstream');
  if (chunk.error) {
    const message =
      typeof chunk.error === 'string' ? chunk.error : (chunk.error.message ?? 'unknown');
    throw failed(`chat server error: ${message}`, 'upstream');
  }
  return chunk;
}

function failed(message: string, category: ErrorCategory, cause?: unknown): UndertoneError {
  return new UndertoneError(ERROR_CODES.llmFailed, message, { category, cause });
}
