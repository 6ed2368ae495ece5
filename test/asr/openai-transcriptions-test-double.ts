/**
 * A stand-in for an OpenAI-compatible `/v1/audio/transcriptions` server, on 127.0.0.1, for the
 * remote engine's tests. It parses the multipart form for real and answers by `mode`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWav } from '../../src/audio/wav.js';

export type DoubleMode = 'verbose' | 'json-only' | 'error' | 'hang' | 'bad-json' | 'gated';

export interface RecordedRequest {
  fields: Record<string, string[]>;
  /** Samples of the uploaded WAV, first channel. */
  samples: Float32Array;
  sampleRateHz: number;
  authorization?: string;
}

export interface TranscriptionsTestDouble {
  url: string;
  mode: DoubleMode;
  requests: RecordedRequest[];
  /** Requests whose connection closed before an answer (aborted by the client). */
  abortedCount: number;
  /** In `gated` mode: answers the oldest held request (text = its prompt). */
  releaseOne(): boolean;
  /** Requests held in `gated` mode. */
  readonly heldCount: number;
  close(): Promise<void>;
}

export async function startTranscriptionsTestDouble(): Promise<TranscriptionsTestDouble> {
  const open = new Set<ServerResponse>();
  const held: (() => void)[] = [];
  const double: TranscriptionsTestDouble = {
    url: '',
    mode: 'verbose',
    requests: [],
    abortedCount: 0,
    releaseOne: () => {
      const next = held.shift();
      next?.();
      return next !== undefined;
    },
    get heldCount() {
      return held.length;
    },
    close: async () => {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    open.add(res);
    res.on('close', () => {
      if (!res.writableEnded) double.abortedCount++;
      open.delete(res);
    });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.url !== '/v1/audio/transcriptions' || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const form = await new Request('http://x/', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body: Buffer.concat(chunks),
    }).formData();
    const fields: Record<string, string[]> = {};
    let wav: Uint8Array | undefined;
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') (fields[key] ??= []).push(value);
      else wav = new Uint8Array(await value.arrayBuffer());
    }
    const parsed = parseWav(wav ?? new Uint8Array());
    double.requests.push({
      fields,
      samples: parsed.channels[0]!,
      sampleRateHz: parsed.sampleRateHz,
      authorization: req.headers.authorization,
    });

    const seconds = parsed.channels[0]!.length / parsed.sampleRateHz;
    const format = fields.response_format?.[0];
    switch (double.mode) {
      case 'hang':
        return;
      case 'gated':
        held.push(() =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ text: fields.prompt?.[0] ?? '' })),
        );
        return;
      case 'error':
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":{"message":"boom"}}');
        return;
      case 'bad-json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"text": ');
        return;
      case 'json-only':
        if (format !== 'json') {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"format"}');
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ text: ' hello world' }));
        return;
      case 'verbose':
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            text: ' hello there world',
            language: 'english',
            duration: seconds,
            segments: [
              {
                start: 0,
                end: seconds / 2,
                text: ' hello there',
                avg_logprob: -0.2,
                compression_ratio: 1.1,
                no_speech_prob: 0.01,
              },
              {
                start: seconds / 2,
                end: seconds + 5,
                text: ' world',
                avg_logprob: -0.4,
                compression_ratio: 1.0,
                no_speech_prob: 0.03,
              },
            ],
            words: [
              { word: 'hello', start: 0, end: 0.3 },
              { word: 'there', start: 0.3, end: 0.6 },
              { word: 'world', start: seconds / 2, end: seconds },
            ],
          }),
        );
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  double.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return double;
}
