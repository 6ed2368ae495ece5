/**
 * The WebSocket surface the client needs, met by the browser's `WebSocket` and by `ws` in Node.
 * Node sends the API key as an `x-api-key` header (see `node/node-socket.ts`); a browser cannot
 * set headers, so the client puts the key into `session.start` instead.
 */

export interface SocketMessageEvent {
  data: unknown;
}

export interface SocketCloseEvent {
  code: number;
  reason: string;
}

/** The subset of the WHATWG WebSocket API the client uses. */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: SocketCloseEvent) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: SocketMessageEvent) => void) | null;
}

export interface SocketFactory {
  open(url: string, apiKey: string | undefined): SocketLike;
  /** True when `open` sends the key in a header, so `session.start` need not carry it. */
  readonly apiKeyInHeader: boolean;
}

/** `readyState` of an open socket. */
export const SOCKET_OPEN = 1;

/** Uses the global `WebSocket` (browsers, Node 22+). */
export const globalSocketFactory: SocketFactory = {
  apiKeyInHeader: false,
  open(url) {
    const Ctor = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket;
    if (!Ctor)
      throw new Error('no global WebSocket here: pass socketFactory (Node: nodeSocketFactory)');
    return new Ctor(url);
  },
};

/** Bytes of a binary message, whichever form the socket delivered it in. */
export function messageBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((d) => ArrayBuffer.isView(d))) {
    const parts = data as Uint8Array[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
  return undefined;
}
