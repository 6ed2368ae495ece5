/**
 * WebSockets for Node through `ws`, which (unlike a browser) can send the API key as an
 * `x-api-key` header on the upgrade request.
 */
import WebSocket from 'ws';
import type { SocketFactory, SocketLike } from '../socket.js';

export const nodeSocketFactory: SocketFactory = {
  apiKeyInHeader: true,
  open(url, apiKey) {
    const headers: Record<string, string> = apiKey ? { 'x-api-key': apiKey } : {};
    return new WebSocket(url, { headers, perMessageDeflate: false }) as unknown as SocketLike;
  },
};
