/**
 * The HTTP plumbing the OpenAI-compatible test doubles share: a server on 127.0.0.1 (a free port)
 * that records each request with its JSON body before handing it on, tracks its sockets so `close`
 * ends streams left open, and tells tests when a client has left a streaming answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as the test double received it. */
export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  /** The JSON body; `{}` when the body is empty. */
  body: Record<string, unknown>;
}

/** Answers one recorded request; runs after the whole body has arrived. */
export type TestDoubleHandler = (res: ServerResponse, request: RecordedRequest) => Promise<void>;

export interface LoopbackJsonServer {
  /** Base URL ending in `/v1`. */
  url: string;
  /** Every request so far, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Resolves at the next `notifyClientGone()`. */
  clientGone(): Promise<void>;
  /** For handlers: a client closed a connection while the server was still streaming. */
  notifyClientGone(): void;
  /** Destroys open connections and stops listening. */
  close(): Promise<void>;
}

/** Starts a loopback server that records each JSON request, then passes it to `handle`. */
export async function startLoopbackJsonServer(
  handle: TestDoubleHandler,
): Promise<LoopbackJsonServer> {
  const requests: RecordedRequest[] = [];
  const goneWaiters: Array<() => void> = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: RecordedRequest = {
        path: req.url ?? '',
        headers: req.headers,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      };
      requests.push(request);
      void handle(res, request);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    clientGone: () => new Promise<void>((resolve) => goneWaiters.push(resolve)),
    notifyClientGone: () => {
      for (const w of goneWaiters.splice(0)) w();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes `bytes` `sliceBytes` at a time, letting the event loop run between slices. */
export async function writeSliced(
  res: ServerResponse,
  bytes: Uint8Array,
  sliceBytes: number,
): Promise<void> {
  for (let at = 0; at < bytes.length; at += sliceBytes) {
    res.write(bytes.subarray(at, at + sliceBytes));
    await new Promise((resolve) => setImmediate(resolve));
  }
}
