/**
 * The `ws` transport. Compression is off: per-message deflate keeps a zlib context per socket,
 * which is a known memory failure with many clients. The library's `maxPayload` is set above the
 * gateway's own frame limit because `ws` answers an oversized message by closing the socket
 * (1009); the gateway rejects frames between the two limits with a coded error instead, and the
 * session goes on.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { AcceptSocket, Transport, TransportOptions, TransportSocket } from './transport.js';

export function createWsTransport(options: TransportOptions, log: Logger): Transport {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: options.libraryMaxPayloadBytes,
    clientTracking: false,
  });
  let server: HttpServer | undefined;
  let onUpgrade: ((req: IncomingMessage, socket: Duplex, head: Buffer) => void) | undefined;

  return {
    name: 'ws',

    attach(httpServer, route) {
      server = httpServer;
      onUpgrade = (req, socket, head) => {
        socket.on('error', (err) => log.debug({ err }, 'upgrade socket error'));
        const path = pathOf(req.url);
        const accept = route(path);
        if (!accept) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => wire(ws, req, path, accept, log));
      };
      httpServer.on('upgrade', onUpgrade);
    },

    async close() {
      if (server && onUpgrade) server.off('upgrade', onUpgrade);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function wire(
  ws: WebSocket,
  req: IncomingMessage,
  path: string,
  accept: AcceptSocket,
  log: Logger,
): void {
  const socket: TransportSocket = {
    sendText: (text, onSent) => ws.send(text, { binary: false }, onSent),
    sendBinary: (data, onSent) => ws.send(data, { binary: true }, onSent),
    ping: () => ws.ping(),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    get isOpen() {
      return ws.readyState === ws.OPEN;
    },
  };

  const handlers = accept(socket, {
    path,
    headers: req.headers,
    remoteAddress: req.socket.remoteAddress ?? '',
  });

  ws.on('message', (data: RawData, isBinary: boolean) =>
    handlers.onMessage(toBuffer(data), isBinary),
  );
  ws.on('pong', () => handlers.onPong());
  // Without an error listener a protocol violation (bad UTF-8, a message over the library limit)
  // would throw from the emitter; `ws` closes the socket itself right after.
  ws.on('error', (err) => log.debug({ err }, 'websocket protocol error'));
  ws.on('close', (code: number, reason: Buffer) => handlers.onClose(code, reason.toString('utf8')));
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return '/';
  }
}
