/**
 * Any OpenAI-compatible speech server: `POST {url}/audio/speech`. Asks for `pcm` (raw 24 kHz
 * 16-bit little-endian mono, OpenAI's format) by default, or `wav`, and hands the audio on as the
 * bytes arrive, not after the whole file.
 *
 * `UT_ERR_TTS_TIMEOUT` when no bytes arrive within `timeoutMs` (time the consumer holds a piece is
 * not counted); `UT_ERR_TTS_FAILED` for HTTP errors, bad WAV headers and unreachable servers.
 * Aborting the signal closes the HTTP request and ends the stream quietly.
 */
import { UndertoneError, type ErrorCategory } from '../../errors/undertone-error.js';
import { silentLogger, type Logger } from '../../log/logger.js';
import { ERROR_CODES } from '../../protocol/error-codes.js';
import type { SynthesizeOptions, TtsEngine } from '../types.js';
import { Pcm16Decoder, WavStreamDecoder } from './pcm-stream.js';

export interface OpenAiSpeechOptions {
  /** Base URL, e.g. `http://127.0.0.1:8000/v1` (config `tts.remote.url`). */
  url: string;
  apiKey?: string;
  /** Model name sent in requests. Default `tts-1`. */
  model?: string;
  /** Voice when a request names none (config `tts.voice`). Default `alloy`. */
  voice?: string;
  /** `pcm` (raw s16le, default) or `wav`. */
  format?: 'pcm' | 'wav';
  /** Rate of the server's audio, in Hz. Default 24000 (OpenAI's `pcm`). */
  sampleRateHz?: number;
  /** Longest wait for the next bytes (the first included), in ms (config `tts.timeoutMs`). */
  timeoutMs?: number;
  logger?: Logger;
}

const TIMEOUT = Symbol('timeout');

export class OpenAiSpeechEngine implements TtsEngine {
  readonly name = 'openai-speech';
  readonly sampleRateHz: number;
  private readonly inFlight = new Set<AbortController>();
  private readonly log: Logger;

  constructor(private readonly options: OpenAiSpeechOptions) {
    this.sampleRateHz = options.sampleRateHz ?? 24_000;
    this.log = (options.logger ?? silentLogger).child({ stage: 'tts', engine: 'openai-speech' });
  }

  async *synthesize(text: string, options: SynthesizeOptions = {}): AsyncIterable<Float32Array> {
    if (!text.trim() || options.signal?.aborted) return;
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = this.options.timeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(TIMEOUT), timeoutMs);
    };
    this.inFlight.add(controller);

    try {
      arm();
      const response = await this.request(text, options.voice, controller.signal);
      const format = this.options.format ?? 'pcm';
      const decoder =
        format === 'wav' ? new WavStreamDecoder(this.sampleRateHz) : new Pcm16Decoder();
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        const samples = decoder.push(value);
        if (samples.length === 0) continue;
        if (controller.signal.aborted) return;
        clearTimeout(timer);
        yield samples;
        arm();
      }
      if (decoder.end() > 0) this.log.debug('speech body ended inside a sample');
    } catch (err) {
      if (controller.signal.reason === TIMEOUT) {
        throw new UndertoneError(ERROR_CODES.ttsTimeout, `no audio bytes within ${timeoutMs} ms`, {
          category: 'upstream',
        });
      }
      if (controller.signal.aborted) return;
      if (err instanceof UndertoneError) throw err;
      throw failed('request to the speech server failed', 'network', err);
    } finally {
      clearTimeout(timer);
      controller.abort();
      this.inFlight.delete(controller);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async request(
    text: string,
    voice: string | undefined,
    signal: AbortSignal,
  ): Promise<Response> {
    const response = await fetch(`${this.options.url.replace(/\/+$/u, '')}/audio/speech`, {
      method: 'POST',
      signal,
      headers: {
        'content-type': 'application/json',
        ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: this.options.model ?? 'tts-1',
        input: text,
        voice: voice ?? this.options.voice ?? 'alloy',
        response_format: this.options.format ?? 'pcm',
      }),
    });
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      this.log.warn({ status: response.status }, 'speech server answered with an error');
      throw failed(
        `HTTP ${response.status}: ${errorMessage(body)}`,
        categoryOfStatus(response.status),
      );
    }
    if (!response.body) throw failed('speech server sent no body', 'upstream');
    return response;
  }

  /** Cancels every request in flight. */
  async close(): Promise<void> {
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }
}

function categoryOfStatus(status: number): ErrorCategory {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate-limit';
  if (status >= 400 && status < 500) return 'bad-input';
  return 'upstream';
}

function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string };
    const message = typeof parsed.error === 'string' ? parsed.error : parsed.error?.message;
    if (message) return message.slice(0, 300);
  } catch {
    // not JSON: the raw text
  }
  return body.slice(0, 300);
}

function failed(message: string, category: ErrorCategory, cause?: unknown): UndertoneError {
  return new UndertoneError(ERROR_CODES.ttsFailed, message, { category, cause });
}
