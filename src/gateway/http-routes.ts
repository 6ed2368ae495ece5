/**
 * The HTTP side of the server:
 * - `GET /healthz`: 200 while the process runs.
 * - `GET /readyz`: 200 once the engines are loaded, else 503 with what is still loading.
 * - `GET /metrics`: Prometheus text of `metrics/metrics.ts` (event-loop lag included, as
 *   `nodejs_eventloop_lag_seconds` from the default metrics).
 * - `POST /v1/transcribe`: batch transcription (`routes/transcribe-route.ts`), bodies capped at
 *   `server.maxBodyBytes`.
 * - `GET /` and its files: the demo page from `client-sdk/demo/`, where built.
 * Anything else is a JSON 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { authorizeHeaders, type AuthPolicy } from './auth.js';
import { registry } from '../metrics/metrics.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import type { ReadinessSnapshot } from '../runtime/readiness.js';
import { serveStatic } from './static-files.js';

/** Handles one request, given its whole body (already checked against the size limit). */
export type RequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
) => Promise<void>;

export interface HttpRoutesOptions {
  log: Logger;
  readiness(): ReadinessSnapshot;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Folder of the demo page; undefined serves none. */
  demoDir?: string;
  /** `POST /v1/transcribe`; undefined answers 501. */
  transcribe?: RequestHandler;
  /** API keys for the REST jobs (`/v1/*`); health, metrics and the demo page stay open. */
  auth?: AuthPolicy;
}

/** Builds the `request` listener of the Node HTTP server. */
export function createHttpHandler(
  options: HttpRoutesOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(req, res, options).catch((err: unknown) => {
      options.log.error({ err, url: req.url }, 'http handler failed');
      if (!res.headersSent) sendJson(res, 500, errorBody(ERROR_CODES.internal, 'internal error'));
      else res.destroy();
    });
  };
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  options: HttpRoutesOptions,
): Promise<void> {
  const path = pathOf(req.url);
  const method = req.method ?? 'GET';
  const isRead = method === 'GET' || method === 'HEAD';

  if (path === '/healthz' && isRead) {
    sendJson(res, 200, { status: 'ok' });
    return;
  }

  if (path === '/readyz' && isRead) {
    const snapshot = options.readiness();
    sendJson(res, snapshot.ready ? 200 : 503, {
      status: snapshot.ready ? 'ready' : 'loading',
      ...snapshot,
    });
    return;
  }

  if (path === '/metrics' && isRead) {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(method === 'HEAD' ? undefined : text);
    return;
  }

  if (path === '/v1/transcribe') {
    if (method !== 'POST') {
      sendJson(res, 405, errorBody(ERROR_CODES.methodNotAllowed, 'use POST'), { allow: 'POST' });
      return;
    }
    const access = options.auth ? authorizeHeaders(options.auth, req.headers) : 'open';
    if (access === 'absent' || access === 'bad') {
      const message =
        access === 'absent'
          ? 'an API key is required (x-api-key or Authorization: Bearer)'
          : 'the API key is not valid';
      sendJson(res, 401, errorBody(ERROR_CODES.unauthorized, message), {
        'www-authenticate': 'Bearer',
      });
      return;
    }
    await transcribe(req, res, options);
    return;
  }

  if (
    isRead &&
    options.demoDir &&
    (await serveStatic(options.demoDir, path, res, method === 'HEAD'))
  )
    return;

  sendJson(res, 404, errorBody(ERROR_CODES.notFound, `no route for ${method} ${path}`));
}

async function transcribe(
  req: IncomingMessage,
  res: ServerResponse,
  options: HttpRoutesOptions,
): Promise<void> {
  if (!options.transcribe) {
    sendJson(
      res,
      501,
      errorBody(ERROR_CODES.modeNotSupported, 'batch transcription is not in this build'),
    );
    return;
  }
  if (!options.readiness().ready) {
    sendJson(res, 503, errorBody(ERROR_CODES.notReady, 'models are still loading; retry shortly'));
    return;
  }

  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
    rejectTooLarge(res, options.maxBodyBytes);
    return;
  }

  const body = await readBody(req, options.maxBodyBytes);
  if (body === undefined) {
    rejectTooLarge(res, options.maxBodyBytes);
    return;
  }
  await options.transcribe(req, res, body);
}

/**
 * Reads a whole request body, or returns undefined (and stops reading) once it passes
 * `maxBytes`: a chunked body has no declared length, so it is counted as it arrives.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.byteLength;
      if (received <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      // Keep the stream flowing into nothing so the 413 can still be written; the response's
      // `connection: close` ends the socket after it.
      req.off('data', onData);
      req.resume();
      resolve(undefined);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks, Math.min(received, maxBytes))));
    req.on('error', reject);
  });
}

function rejectTooLarge(res: ServerResponse, maxBodyBytes: number): void {
  if (res.headersSent) return;
  sendJson(
    res,
    413,
    errorBody(ERROR_CODES.bodyTooLarge, `request body is over ${maxBodyBytes} bytes`),
    {
      connection: 'close',
    },
  );
}

/** The JSON error body of every HTTP error: `{ error: { code, message } }`. */
export function errorBody(
  code: string,
  message: string,
): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return '/';
  }
}
