/**
 * Test double of a remote OpenAI-compatible speech server, on 127.0.0.1. Serves a known tone as
 * raw s16le or WAV, in odd-sized slices so samples arrive split across reads; can hang, stall,
 * fail, or stream until the client leaves.
 */
import type { ServerResponse } from 'node:http';
import {
  startLoopbackJsonServer,
  writeSliced,
  type RecordedRequest,
} from '../helpers/http-test-double.js';

export type SpeechBehavior =
  /** The tone as the requested format (`pcm` or `wav`), `sliceBytes` at a time. */
  | { kind: 'tone'; sliceBytes?: number; wavSize?: 'exact' | 'open'; rateHz?: number }
  /** Tone slices every `intervalMs` until the client closes the connection. */
  | { kind: 'endless'; intervalMs: number }
  | { kind: 'hang' }
  /** Sends `bytes` of audio, then stalls. */
  | { kind: 'stall'; bytes: number }
  | { kind: 'http-error'; status: number; body: string };

export interface OpenAiSpeechTestDouble {
  url: string;
  behavior: SpeechBehavior;
  readonly requests: RecordedRequest[];
  clientGone(): Promise<void>;
  close(): Promise<void>;
}

/** The tone every `tone` answer carries: 0.3 s of 440 Hz at 0.5 amplitude. */
export function toneSamples(rateHz: number): Int16Array {
  const out = new Int16Array(Math.round(rateHz * 0.3));
  for (let i = 0; i < out.length; i++)
    out[i] = Math.round(Math.sin((2 * Math.PI * 440 * i) / rateHz) * 0.5 * 32767);
  return out;
}

export function wavHeader(rateHz: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(dataBytes === 0xffffffff ? 0xffffffff : 36 + dataBytes, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rateHz, 24);
  h.writeUInt32LE(rateHz * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export async function startOpenAiSpeechTestDouble(
  initial: SpeechBehavior,
): Promise<OpenAiSpeechTestDouble> {
  const pcmBytes = (rateHz: number) => Buffer.from(toneSamples(rateHz).buffer);

  async function handle(
    res: ServerResponse,
    behavior: SpeechBehavior,
    format: string,
  ): Promise<void> {
    switch (behavior.kind) {
      case 'tone': {
        const rateHz = behavior.rateHz ?? 24_000;
        const pcm = pcmBytes(rateHz);
        const trailer = Buffer.from('LIST\x04\x00\x00\x00abcd', 'latin1'); // after data: must be ignored
        const body =
          format === 'wav'
            ? Buffer.concat([
                wavHeader(rateHz, behavior.wavSize === 'open' ? 0xffffffff : pcm.length),
                pcm,
                ...(behavior.wavSize === 'open' ? [] : [trailer]),
              ])
            : pcm;
        res.writeHead(200, { 'content-type': format === 'wav' ? 'audio/wav' : 'audio/pcm' });
        await writeSliced(res, body, behavior.sliceBytes ?? 333);
        res.end();
        return;
      }
      case 'endless': {
        res.writeHead(200, { 'content-type': 'audio/pcm' });
        let open = true;
        res.on('close', () => {
          open = false;
          server.notifyClientGone();
        });
        const pcm = pcmBytes(24_000);
        while (open) {
          res.write(pcm.subarray(0, 960));
          await new Promise((resolve) => setTimeout(resolve, behavior.intervalMs));
        }
        return;
      }
      case 'hang':
        return;
      case 'stall':
        res.writeHead(200, { 'content-type': 'audio/pcm' });
        res.write(pcmBytes(24_000).subarray(0, behavior.bytes));
        return;
      case 'http-error':
        res.writeHead(behavior.status, { 'content-type': 'application/json' });
        res.end(behavior.body);
        return;
    }
  }

  const server = await startLoopbackJsonServer((res, { body }) =>
    handle(res, double.behavior, String(body.response_format ?? 'mp3')),
  );
  const double: OpenAiSpeechTestDouble = {
    url: server.url,
    behavior: initial,
    requests: server.requests,
    clientGone: server.clientGone,
    close: server.close,
  };
  return double;
}
