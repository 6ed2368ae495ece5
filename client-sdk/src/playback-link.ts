/**
 * Wires a client's agent audio into a jitter buffer: frames are decoded and queued, a cancelled
 * response is cleared at once, a finished one is flushed, and a session that restarted clean
 * (resume failed) drops everything queued. Players then pull from the buffer.
 */
import type { JitterBuffer } from './jitter-buffer.js';
import type { UndertoneClient } from './undertone-client.js';

export interface PlaybackLinkOptions {
  buffer: JitterBuffer;
  /** Decodes one payload to mono samples at `sampleRateHz`. */
  decode(payload: Uint8Array): Float32Array;
  sampleRateHz: number;
}

/** Returns a function that undoes the wiring. */
export function linkPlayback(client: UndertoneClient, options: PlaybackLinkOptions): () => void {
  const { buffer } = options;
  const offs = [
    client.on('agent.audio', (frame) => {
      const samples = options.decode(frame.payload);
      if (samples.length > 0)
        buffer.push(frame.responseId, frame.seq, samples, options.sampleRateHz);
    }),
    client.on('response.cancelled', (e) => {
      buffer.clear(e.responseId);
    }),
    client.on('response.done', (e) => buffer.end(e.responseId)),
    client.on('resume-failed', () => buffer.clearAll()),
  ];
  return () => offs.forEach((off) => off());
}
