/**
 * Test double of a remote OpenAI-compatible chat server, on 127.0.0.1. It writes real HTTP and
 * SSE bytes, in small slices so events arrive split across reads, and can hang, fail or stream
 * forever until the client leaves.
 */
import type { ServerResponse } from 'node:http';
import {
  startLoopbackJsonServer,
  writeSliced,
  type RecordedRequest,
} from '../helpers/http-test-double.js';

export type { RecordedRequest } from '../helpers/http-test-double.js';

export type ChatBehavior =
  /** Streams `pieces` as deltas, then `[DONE]`; bytes are written `sliceBytes` at a time. */
  | { kind: 'stream'; pieces: string[]; sliceBytes?: number; crlf?: boolean }
  /** One delta every `intervalMs` until the client closes the connection. */
  | { kind: 'endless'; intervalMs: number }
  /** Reads the request and never answers. */
  | { kind: 'hang' }
  /** Sends a few deltas, then stalls forever. */
  | { kind: 'stall'; pieces: string[] }
  /** Answers with an HTTP error status and body. */
  | { kind: 'http-error'; status: number; body: string }
  /** Streams some deltas, then an `{"error":...}` event. */
  | { kind: 'stream-error'; pieces: string[]; message: string }
  /** Streams deltas and closes without `[DONE]` or a finish reason. */
  | { kind: 'truncated'; pieces: string[] }
  /** A data line that is not JSON. */
  | { kind: 'garbage' };

export interface OpenAiChatTestDouble {
  /** Base URL ending in `/v1`. */
  url: string;
  behavior: ChatBehavior;
  readonly requests: RecordedRequest[];
  /** Deltas written so far, all requests together. */
  readonly deltasSent: number;
  /** Resolves when a client has closed a connection while the server was still streaming. */
  clientGone(): Promise<void>;
  close(): Promise<void>;
}

const delta = (content: string) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const finish = `data: ${JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`;

export async function startOpenAiChatTestDouble(
  initial: ChatBehavior,
): Promise<OpenAiChatTestDouble> {
  let deltasSent = 0;

  const sse = (res: ServerResponse) =>
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });

  async function handle(res: ServerResponse, behavior: ChatBehavior): Promise<void> {
    switch (behavior.kind) {
      case 'stream': {
        sse(res);
        const nl = (s: string) => (behavior.crlf ? s.replace(/\n/g, '\r\n') : s);
        const text = [': keep-alive\n\n', ...behavior.pieces.map(delta), finish, 'data: [DONE]\n\n']
          .map(nl)
          .join('');
        deltasSent += behavior.pieces.length;
        await writeSliced(res, Buffer.from(text), behavior.sliceBytes ?? 7);
        res.end();
        return;
      }
      case 'endless': {
        sse(res);
        let open = true;
        res.on('close', () => {
          if (!open) return;
          open = false;
          server.notifyClientGone();
        });
        for (let i = 0; open; i++) {
          res.write(delta(`w${i} `));
          deltasSent++;
          await new Promise((resolve) => setTimeout(resolve, behavior.intervalMs));
        }
        return;
      }
      case 'hang':
        return;
      case 'stall':
        sse(res);
        for (const piece of behavior.pieces) res.write(delta(piece));
        deltasSent += behavior.pieces.length;
        return;
      case 'http-error':
        res.writeHead(behavior.status, { 'content-type': 'application/json' });
        res.end(behavior.body);
        return;
      case 'stream-error':
        sse(res);
        for (const piece of behavior.pieces) res.write(delta(piece));
        deltasSent += behavior.pieces.length;
        res.end(
          `data: ${JSON.stringify({ error: { message: behavior.message, type: 'server_error' } })}\n\n`,
        );
        return;
      case 'truncated':
        sse(res);
        for (const piece of behavior.pieces) res.write(delta(piece));
        deltasSent += behavior.pieces.length;
        res.end();
        return;
      case 'garbage':
        sse(res);
        res.end('data: {not json\n\n');
        return;
    }
  }

  const server = await startLoopbackJsonServer((res) => handle(res, double.behavior));
  const double: OpenAiChatTestDouble = {
    url: server.url,
    behavior: initial,
    requests: server.requests,
    get deltasSent() {
      return deltasSent;
    },
    clientGone: server.clientGone,
    close: server.close,
  };
  return double;
}
