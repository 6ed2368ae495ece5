/**
 * The Twilio Media Streams wire format (bidirectional `<Connect><Stream>`), as JSON text frames.
 * From Twilio: `connected`, `start`, `media` (base64 mu-law 8 kHz, ~20 ms), `dtmf`, `mark`
 * (echoed once the audio before it has played), `stop`. To Twilio: `media`, `mark`, `clear`.
 * Parsing is total: bad input becomes `{ ok: false, reason }`, never a throw.
 */

export interface TwilioStart {
  streamSid: string;
  callSid?: string;
  accountSid?: string;
  tracks: string[];
  /** `<Parameter>` values of the TwiML `<Stream>` (the stream URL may carry no query string). */
  customParameters: Record<string, string>;
  mediaFormat: { encoding: string; sampleRate: number; channels: number };
}

export type TwilioInbound =
  | { event: 'connected'; protocol?: string; version?: string }
  | { event: 'start'; sequenceNumber?: number; start: TwilioStart; streamSid: string }
  | {
      event: 'media';
      streamSid: string;
      /** `inbound` (the caller) or `outbound`. */
      track: string;
      /** Media chunk number, from 1. */
      chunk: number;
      /** Ms since the stream started. */
      timestampMs: number;
      payload: Uint8Array;
    }
  | { event: 'dtmf'; streamSid: string; digit: string }
  | { event: 'mark'; streamSid: string; name: string }
  | { event: 'stop'; streamSid: string };

export type ParsedTwilio = { ok: true; message: TwilioInbound } | { ok: false; reason: string };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** Parses one text frame from Twilio. */
export function parseTwilioMessage(text: string): ParsedTwilio {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObject(raw)) return { ok: false, reason: 'not a JSON object' };
  const event = str(raw.event);
  const streamSid = str(raw.streamSid) ?? '';

  switch (event) {
    case 'connected':
      return {
        ok: true,
        message: { event, protocol: str(raw.protocol), version: str(raw.version) },
      };
    case 'start': {
      const start = isObject(raw.start) ? raw.start : undefined;
      const sid = str(start?.streamSid) ?? streamSid;
      if (!start || !sid) return { ok: false, reason: 'start without streamSid' };
      const format = isObject(start.mediaFormat) ? start.mediaFormat : {};
      const params: Record<string, string> = {};
      if (isObject(start.customParameters)) {
        for (const [k, v] of Object.entries(start.customParameters))
          if (typeof v === 'string') params[k] = v;
      }
      return {
        ok: true,
        message: {
          event,
          streamSid: sid,
          sequenceNumber: num(raw.sequenceNumber),
          start: {
            streamSid: sid,
            callSid: str(start.callSid),
            accountSid: str(start.accountSid),
            tracks: Array.isArray(start.tracks)
              ? start.tracks.filter((t): t is string => typeof t === 'string')
              : ['inbound'],
            customParameters: params,
            mediaFormat: {
              encoding: str(format.encoding) ?? 'audio/x-mulaw',
              sampleRate: num(format.sampleRate) ?? 8000,
              channels: num(format.channels) ?? 1,
            },
          },
        },
      };
    }
    case 'media': {
      const media = isObject(raw.media) ? raw.media : undefined;
      const payload = str(media?.payload);
      if (!media || payload === undefined) return { ok: false, reason: 'media without payload' };
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload))
        return { ok: false, reason: 'media payload is not base64' };
      return {
        ok: true,
        message: {
          event,
          streamSid,
          track: str(media.track) ?? 'inbound',
          chunk: num(media.chunk) ?? 0,
          timestampMs: num(media.timestamp) ?? 0,
          payload: new Uint8Array(Buffer.from(payload, 'base64')),
        },
      };
    }
    case 'dtmf': {
      const dtmf = isObject(raw.dtmf) ? raw.dtmf : {};
      return { ok: true, message: { event, streamSid, digit: str(dtmf.digit) ?? '' } };
    }
    case 'mark': {
      const name = str(isObject(raw.mark) ? raw.mark.name : undefined);
      if (name === undefined) return { ok: false, reason: 'mark without name' };
      return { ok: true, message: { event, streamSid, name } };
    }
    case 'stop':
      return { ok: true, message: { event, streamSid } };
    default:
      return { ok: false, reason: `unknown event ${JSON.stringify(event ?? null)}` };
  }
}

/** Agent audio to play: mu-law 8 kHz bytes. */
export function mediaMessage(streamSid: string, payload: Uint8Array): string {
  return JSON.stringify({
    event: 'media',
    streamSid,
    media: { payload: Buffer.from(payload).toString('base64') },
  });
}

export function markMessage(streamSid: string, name: string): string {
  return JSON.stringify({ event: 'mark', streamSid, mark: { name } });
}

/** Drops the audio Twilio has buffered but not yet played. */
export function clearMessage(streamSid: string): string {
  return JSON.stringify({ event: 'clear', streamSid });
}

/** Mark names carry the response and the agent-audio ms played once the mark comes back. */
export function markName(responseId: string, playedMs: number): string {
  return `${responseId}@${Math.round(playedMs)}`;
}

export function parseMarkName(name: string): { responseId: string; playedMs: number } | undefined {
  const at = name.lastIndexOf('@');
  if (at <= 0) return undefined;
  const playedMs = Number(name.slice(at + 1));
  return Number.isFinite(playedMs) ? { responseId: name.slice(0, at), playedMs } : undefined;
}
