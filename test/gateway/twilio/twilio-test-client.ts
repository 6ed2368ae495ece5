/**
 * Test helpers for the Twilio endpoint: a loopback HTTP server with the `ws` transport and the
 * endpoint mounted at `/twilio` (as `server.ts` mounts it), and a client speaking Twilio's
 * Media Streams messages.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { silentLogger } from '../../../src/log/logger.js';
import { createWsTransport } from '../../../src/gateway/ws-transport.js';
import {
  createTwilioEndpoint,
  type TwilioEndpoint,
  type TwilioEndpointDeps,
} from '../../../src/gateway/twilio/twilio-media-stream.js';

export interface TwilioTestServer {
  url: string;
  endpoint: TwilioEndpoint;
  close(): Promise<void>;
}

export async function startTwilioTestServer(
  deps: Omit<TwilioEndpointDeps, 'log'> & { log?: TwilioEndpointDeps['log'] },
): Promise<TwilioTestServer> {
  const endpoint = createTwilioEndpoint({ log: silentLogger, ...deps });
  const http = createServer((_req, res) => res.writeHead(404).end());
  const transport = createWsTransport(
    { libraryMaxPayloadBytes: 4 * deps.config.server.maxFrameBytes },
    silentLogger,
  );
  transport.attach(http, (path) => (path.startsWith('/twilio') ? endpoint.accept : undefined));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/twilio`,
    endpoint,
    async close() {
      await endpoint.close();
      await transport.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export type TwilioOut =
  | { event: 'media'; streamSid: string; media: { payload: string } }
  | { event: 'mark'; streamSid: string; mark: { name: string } }
  | { event: 'clear'; streamSid: string };

/** A Twilio-side client: sends Media Streams messages, records what the server sends back. */
export class TwilioTestClient {
  readonly received: TwilioOut[] = [];
  readonly closed: Promise<number>;
  private chunk = 0;
  private seq = 0;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly ws: WebSocket,
    readonly streamSid: string,
  ) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as TwilioOut);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }

  static async connect(
    url: string,
    streamSid = 'MZ00000000000000000000000000000001',
  ): Promise<TwilioTestClient> {
    const ws = new WebSocket(url);
    await new Promise<void>(
      (resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)),
    );
    return new TwilioTestClient(ws, streamSid);
  }

  send(message: object): void {
    this.ws.send(JSON.stringify({ ...message, sequenceNumber: String(++this.seq) }));
  }

  start(customParameters: Record<string, string> = {}): void {
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.send({
      event: 'start',
      streamSid: this.streamSid,
      start: {
        streamSid: this.streamSid,
        accountSid: 'AC00000000000000000000000000000001',
        callSid: 'CA00000000000000000000000000000001',
        tracks: ['inbound'],
        customParameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
  }

  /** One media message of mu-law bytes (160 = 20 ms). */
  media(payload: Uint8Array): void {
    this.chunk++;
    this.send({
      event: 'media',
      streamSid: this.streamSid,
      media: {
        track: 'inbound',
        chunk: String(this.chunk),
        timestamp: String((this.chunk - 1) * 20),
        payload: Buffer.from(payload).toString('base64'),
      },
    });
  }

  mark(name: string): void {
    this.send({ event: 'mark', streamSid: this.streamSid, mark: { name } });
  }

  stop(): void {
    this.send({
      event: 'stop',
      streamSid: this.streamSid,
      stop: { accountSid: 'AC1', callSid: 'CA1' },
    });
  }

  of<T extends TwilioOut['event']>(event: T): Array<Extract<TwilioOut, { event: T }>> {
    return this.received.filter((m) => m.event === event) as Array<
      Extract<TwilioOut, { event: T }>
    >;
  }

  /** Resolves once `test` holds (checked at each message), or rejects after `timeoutMs`. */
  async until(test: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (Date.now() > deadline)
        throw new Error(
          `condition not met in ${timeoutMs} ms; got ${this.received.length} messages`,
        );
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}
