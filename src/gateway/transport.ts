/**
 * The small interface between the gateway and a WebSocket library. `ws` implements it
 * (`ws-transport.ts`); uWebSockets.js can be added behind the same shape (`uws-transport.ts`).
 * Everything above this file (connection, registry, auth) is library-agnostic.
 */
import type { IncomingHttpHeaders, Server as HttpServer } from 'node:http';

/** One open WebSocket, as the gateway sees it. */
export interface TransportSocket {
  /** Sends a text frame; `onSent` fires once the bytes are handed to the OS (or on failure). */
  sendText(text: string, onSent?: (err?: Error) => void): void;
  /** Sends a binary frame; see `sendText` for `onSent`. */
  sendBinary(data: Uint8Array, onSent?: (err?: Error) => void): void;
  ping(): void;
  /** Closing handshake with a code from `CLOSE_CODES` and a short reason (at most 123 bytes). */
  close(code: number, reason: string): void;
  /** Drops the TCP connection without a handshake (a dead peer). */
  terminate(): void;
  readonly isOpen: boolean;
}

/** What the transport tells the gateway about one socket. */
export interface SocketHandlers {
  /** A whole message; `isBinary` is false for a text frame (UTF-8 checked by the library). */
  onMessage(data: Uint8Array, isBinary: boolean): void;
  onPong(): void;
  onClose(code: number, reason: string): void;
}

/** The upgrade request a socket came from. */
export interface UpgradeRequest {
  path: string;
  headers: IncomingHttpHeaders;
  remoteAddress: string;
}

/** Called once per accepted socket; returns the handlers of that socket. */
export type AcceptSocket = (socket: TransportSocket, request: UpgradeRequest) => SocketHandlers;

export interface TransportOptions {
  /**
   * Largest message the library itself lets through, in bytes. The gateway checks its own
   * `maxFrameBytes` (smaller) so an oversized frame gets a coded error instead of a closed socket.
   */
  libraryMaxPayloadBytes: number;
}

export interface Transport {
  readonly name: 'ws' | 'uws';
  /**
   * Starts accepting WebSocket upgrades on `server`. `route` picks the acceptor for a request
   * path (the voice protocol, later the Twilio endpoint); `undefined` answers 404.
   */
  attach(server: HttpServer, route: (path: string) => AcceptSocket | undefined): void;
  /** Stops accepting; open sockets are closed by their connections. */
  close(): Promise<void>;
}
