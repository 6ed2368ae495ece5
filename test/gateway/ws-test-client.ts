/**
 * A real `ws` client for gateway tests: collects JSON events and binary frames in arrival order
 * and lets a test wait for the next one. Waits end by the test timeout, never by a timer here.
 */
import WebSocket, { type ClientOptions } from 'ws';
import type { ServerEvent, SessionStartMessage } from '../../src/protocol/messages.js';

export type AnyEvent = ServerEvent & Record<string, unknown>;

export class WsTestClient {
  private readonly queue: AnyEvent[] = [];
  private waiters: Array<() => void> = [];
  readonly binaries: Buffer[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.binaries.push(data);
      else this.queue.push(JSON.parse(data.toString('utf8')) as AnyEvent);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number, reason: Buffer) => {
        resolve({ code, reason: reason.toString('utf8') });
        for (const wake of this.waiters.splice(0)) wake();
      }),
    );
    ws.on('error', () => {});
  }

  static connect(url: string, options?: ClientOptions): Promise<WsTestClient> {
    const ws = new WebSocket(url, options);
    const client = new WsTestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  sendJson(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  sendBinary(data: Uint8Array): void {
    this.ws.send(data, { binary: true });
  }

  /** The next event, in arrival order. Rejects if the socket closes first. */
  async next(): Promise<AnyEvent> {
    return this.waitFor(() => true);
  }

  /** Removes and returns the first queued event matching `match`, waiting for it if needed. */
  async waitFor(match: (event: AnyEvent) => boolean): Promise<AnyEvent> {
    for (;;) {
      const index = this.queue.findIndex(match);
      if (index >= 0) return this.queue.splice(index, 1)[0]!;
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`socket closed; queued: ${JSON.stringify(this.queue.map((e) => e.type))}`);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Waits for an event of `type`, skipping others. */
  waitForType(type: string): Promise<AnyEvent> {
    return this.waitFor((e) => e.type === type);
  }

  /** Events received and not yet taken. */
  pending(): AnyEvent[] {
    return [...this.queue];
  }

  /** Sends `session.start` and waits for `session.started`. */
  async start(overrides: Partial<SessionStartMessage> = {}): Promise<AnyEvent> {
    this.sendJson(startMessage(overrides));
    return this.waitForType('session.started');
  }

  /** A ping round trip: proves the connection still answers after a bad input. */
  async roundTrip(id = 7): Promise<AnyEvent> {
    this.sendJson({ type: 'ping', id, clientTimeMs: 1 });
    return this.waitFor((e) => e.type === 'pong' && e.id === id);
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export function startMessage(overrides: Partial<SessionStartMessage> = {}): SessionStartMessage {
  return {
    type: 'session.start',
    version: 1,
    mode: 'agent',
    audio: { codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20 },
    ...overrides,
  };
}
