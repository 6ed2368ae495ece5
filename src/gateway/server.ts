/**
 * The Undertone server: one Node HTTP server for health, metrics, REST and the demo page, with
 * the WebSocket transport on its upgrade path. Engines may still be loading when it starts:
 * `/readyz` answers 503 and `session.start` gets `UT_ERR_OVERLOADED` until they are in.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import type { CreateSession, Engines } from '../pipeline/types.js';
import { isUndertoneError } from '../errors/undertone-error.js';
import { Readiness } from '../runtime/readiness.js';
import { authorizeHeaders, type AuthPolicy } from './auth.js';
import { Connection, type GatewayContext } from './connection.js';
import { createHttpHandler, type RequestHandler } from './http-routes.js';
import { SessionRegistry } from './session-registry.js';
import { defaultDemoDir } from './static-files.js';
import type { AcceptSocket, Transport } from './transport.js';
import { createUwsTransport } from './uws-transport.js';
import { createWsTransport } from './ws-transport.js';
import { transcribeRoute } from './transcribe-mount.js';
import { createTwilioEndpoint } from './twilio/twilio-media-stream.js';
import { createEmotionObserverFactory } from '../emotion/track-emotion-observer.js';
import type { EmotionObserverFactory } from '../pipeline/stage-ports.js';

/**
 * How far above `server.maxFrameBytes` the WebSocket library itself lets a message through. Frames
 * in between get `UT_ERR_FRAME_TOO_LARGE` and the session goes on; beyond it the library closes
 * the socket with 1009.
 */
export const LIBRARY_PAYLOAD_FACTOR = 4;

/** Upgrades under this path speak Twilio Media Streams instead of protocol v1. */
const TWILIO_PATH_PREFIX = '/twilio';

export interface StartServerOptions {
  config: UndertoneConfig;
  /** Loaded engines, or a promise of them; until it settles the server is not ready. */
  engines: Engines | Promise<Engines>;
  createSession: CreateSession;
  log: Logger;
  /** Load progress shown at `/readyz`; one is made when absent. */
  readiness?: Readiness;
  /** Folder of the demo page; default `client-sdk/demo/` where built, `null` serves none. */
  demoDir?: string | null;
  /** `POST /v1/transcribe`; default `routes/transcribe-route.ts`, `null` for none (501). */
  transcribe?: RequestHandler | null;
  /** The emotion stage; default built from `config.emotion`, `null` for none. */
  emotion?: EmotionObserverFactory | null;
}

export interface RunningServer {
  /** `http://host:port`. */
  url: string;
  /** `ws://host:port/v1/stream`, the voice protocol. */
  wsUrl: string;
  host: string;
  port: number;
  /** Sessions held, detached ones included. */
  sessionCount(): number;
  /** Ends every session (each client gets `session.ended`), closes sockets, stops listening. */
  close(): Promise<void>;
}

/** Starts listening on `server.host:server.port` (0 picks a free port, logged). */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, log } = options;
  const readiness = options.readiness ?? new Readiness();
  const libraryMaxPayloadBytes = config.server.maxFrameBytes * LIBRARY_PAYLOAD_FACTOR;
  const transport: Transport =
    config.server.transport === 'uws'
      ? await createUwsTransport()
      : createWsTransport({ libraryMaxPayloadBytes }, log);

  let engines: Engines | undefined;
  trackEngines(options.engines, readiness, log, (loaded) => (engines = loaded));

  const registry = new SessionRegistry({
    maxSessions: config.server.maxSessions,
    maxSessionDurationMs: config.server.maxSessionDurationS * 1000,
    resumeGraceMs: config.server.resumeGraceMs,
    log,
  });
  const auth: AuthPolicy = { required: config.server.authRequired, keys: config.server.apiKeys };
  const emotion =
    options.emotion === null
      ? undefined
      : (options.emotion ?? createEmotionObserverFactory(config, log));
  const ctx: GatewayContext = {
    config,
    log,
    registry,
    createSession: options.createSession,
    auth,
    engines: () => engines,
    emotion,
  };
  const twilio = createTwilioEndpoint({
    config,
    log: log.child({ endpoint: 'twilio' }),
    createSession: options.createSession,
    engines: () => engines,
    emotion,
    registry,
  });

  const connections = new Set<Connection>();
  const acceptVoice: AcceptSocket = (socket, request) => {
    const connection = new Connection(
      socket,
      request,
      authorizeHeaders(auth, request.headers),
      ctx,
    );
    connections.add(connection);
    const handlers = connection.handlers();
    return {
      ...handlers,
      onClose: (code, reason) => {
        connections.delete(connection);
        handlers.onClose(code, reason);
      },
    };
  };

  const demoDir =
    options.demoDir === null || !config.server.demoPage
      ? undefined
      : (options.demoDir ?? defaultDemoDir());
  const transcribe =
    options.transcribe === null
      ? undefined
      : (options.transcribe ?? transcribeRoute({ config, log, engines: () => engines }));
  const http = createServer(
    createHttpHandler({
      log,
      readiness: () => readiness.snapshot(),
      maxBodyBytes: config.server.maxBodyBytes,
      demoDir,
      transcribe,
      auth,
    }),
  );
  http.on('clientError', (err, socket) => {
    log.debug({ err }, 'bad http request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  transport.attach(http, (path) =>
    path.startsWith(TWILIO_PATH_PREFIX) ? twilio.accept : acceptVoice,
  );

  const address = await listen(http, config.server.port, config.server.host);
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}`;
  const wsUrl = `ws://${hostForUrl}:${address.port}/v1/stream`;
  log.info({ url, wsUrl, transport: transport.name }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    wsUrl,
    host: address.address,
    port: address.port,
    sessionCount: () => registry.size,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        await Promise.all([...connections].map((c) => c.shutdown()));
        await twilio.close();
        await registry.endAll('server-shutdown');
        await waitForSockets([...connections]);
        await transport.close();
        http.closeAllConnections();
        await stopped;
        log.info({ url }, 'server closed');
      })()),
  };
}

/** How long shutdown waits for clients to finish the closing handshake, in ms. */
const CLOSE_HANDSHAKE_WAIT_MS = 2000;

async function waitForSockets(connections: Connection[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), CLOSE_HANDSHAKE_WAIT_MS)),
  );
  const outcome = await Promise.race([Promise.all(connections.map((c) => c.closed)), gaveUp]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    for (const c of connections) c.terminate();
    await Promise.all(connections.map((c) => c.closed));
  }
}

function trackEngines(
  source: Engines | Promise<Engines>,
  readiness: Readiness,
  log: Logger,
  onLoaded: (engines: Engines) => void,
): void {
  if (!(source instanceof Promise)) {
    onLoaded(source);
    readiness.markLoaded();
    return;
  }
  source.then(
    (loaded) => {
      onLoaded(loaded);
      readiness.markLoaded();
    },
    (err: unknown) => {
      readiness.report({ component: 'engines', state: 'failed', detail: (err as Error)?.message });
      // A coded error (a missing model) is an operator's problem, not a bug: no stack trace.
      if (isUndertoneError(err))
        log.error({ code: err.code, detail: err.message }, 'engines failed to load');
      else log.error({ err }, 'engines failed to load');
    },
  );
}

function listen(http: HttpServer, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    http.once('error', onError);
    http.listen(port, host, () => {
      http.off('error', onError);
      resolve(http.address() as AddressInfo);
    });
  });
}
