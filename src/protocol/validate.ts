/**
 * Validation of client messages at the wire boundary. Pure: no Node APIs and no runtime
 * dependencies, so `client-sdk/` can check what it sends with the same rules the server applies.
 *
 * Each failure carries a stable code from `error-codes.ts`:
 * - text that is not JSON: `UT_ERR_BAD_JSON`
 * - a `type` nobody knows: `UT_ERR_UNKNOWN_MESSAGE`
 * - a missing field or a field of the wrong type: `UT_ERR_BAD_MESSAGE`
 * - `session.start` with another protocol version: `UT_ERR_UNSUPPORTED_VERSION`
 * - a codec, rate, channel count or frame duration we cannot take: `UT_ERR_BAD_AUDIO_FORMAT`
 *
 * The returned message is a fresh object holding only the fields of the protocol; unknown extra
 * fields are dropped, so later protocol versions can add optional fields.
 */
import { ERROR_CODES } from './error-codes.js';
import {
  CODECS,
  FRAME_DURATIONS_MS,
  PROTOCOL_VERSION,
  SAMPLE_RATES_HZ,
  SESSION_MODES,
  type AudioFormat,
  type ClientMessage,
  type Codec,
  type SampleRateHz,
  type SessionMode,
  type SessionStartMessage,
} from './messages.js';

export type ValidationCode =
  | typeof ERROR_CODES.badJson
  | typeof ERROR_CODES.unknownMessage
  | typeof ERROR_CODES.badMessage
  | typeof ERROR_CODES.unsupportedVersion
  | typeof ERROR_CODES.badAudioFormat;

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: ValidationCode; message: string };

export interface ParseOptions {
  /** Mode given to a `session.start` that names none. Default `agent`. */
  defaultMode?: SessionMode;
}

/** Longest `input.text`, in characters. */
export const MAX_INPUT_TEXT_CHARS = 4000;
/** Most `metadata` labels in a `session.start`, and the longest key or value, in characters. */
export const MAX_METADATA_ENTRIES = 32;
export const MAX_METADATA_CHARS = 256;
/** Longest free-text field (reasons, tokens, keys, roles), in characters. */
export const MAX_SHORT_TEXT_CHARS = 512;

/** Opus decodes natively at these rates only; G.711 is defined at 8 kHz only. */
const OPUS_RATES_HZ: readonly number[] = [8000, 12000, 16000, 24000, 48000];
const G711_RATE_HZ = 8000;

const CLIENT_TYPES = [
  'session.start',
  'session.end',
  'ping',
  'playback.position',
  'input.text',
  'session.update',
] as const;

/** Thrown inside this module only; turned into a `ParseResult` by `parseClientMessage`. */
class Invalid {
  constructor(
    readonly code: ValidationCode,
    readonly message: string,
  ) {}
}

const bad = (message: string): never => {
  throw new Invalid(ERROR_CODES.badMessage, message);
};
const badFormat = (message: string): never => {
  throw new Invalid(ERROR_CODES.badAudioFormat, message);
};

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses and checks one JSON text frame from a client.
 *
 * @example
 * const r = parseClientMessage('{"type":"ping","id":1,"clientTimeMs":5}');
 * if (!r.ok) sendError(r.code, r.message);
 */
export function parseClientMessage(text: string, options: ParseOptions = {}): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: ERROR_CODES.badJson, message: 'message is not valid JSON' };
  }

  try {
    return { ok: true, message: checkMessage(raw, options) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

function checkMessage(raw: unknown, options: ParseOptions): ClientMessage {
  if (!isObject(raw)) bad('message must be a JSON object');
  const msg = raw as Obj;
  if (typeof msg.type !== 'string') bad('type: required string');

  const type = msg.type as string;
  if (!(CLIENT_TYPES as readonly string[]).includes(type)) {
    throw new Invalid(ERROR_CODES.unknownMessage, `type: unknown message type ${clip(type)}`);
  }

  switch (type as ClientMessage['type']) {
    case 'session.start':
      return checkSessionStart(msg, options);
    case 'session.end': {
      const reason = optionalString(msg, 'reason');
      return reason === undefined ? { type: 'session.end' } : { type: 'session.end', reason };
    }
    case 'ping':
      return { type: 'ping', id: finite(msg, 'id'), clientTimeMs: finite(msg, 'clientTimeMs') };
    case 'playback.position': {
      const responseId = requiredString(msg, 'responseId');
      const playedMs = finite(msg, 'playedMs');
      if (playedMs < 0) bad('playedMs: must not be negative');
      return { type: 'playback.position', responseId, playedMs };
    }
    case 'input.text': {
      const text = requiredString(msg, 'text', MAX_INPUT_TEXT_CHARS);
      if (text.trim() === '') bad('text: must not be empty');
      return { type: 'input.text', text };
    }
    case 'session.update': {
      const out: ClientMessage = { type: 'session.update' };
      if (msg.emotion !== undefined) out.emotion = checkEmotion(msg.emotion, 2);
      if (msg.prosodyIntervalMs !== undefined) out.prosodyIntervalMs = prosodyInterval(msg);
      return out;
    }
  }
}

function checkSessionStart(msg: Obj, options: ParseOptions): SessionStartMessage {
  if (msg.version === undefined) bad('version: required');
  if (typeof msg.version !== 'number') bad('version: must be a number');
  if (msg.version !== PROTOCOL_VERSION) {
    throw new Invalid(
      ERROR_CODES.unsupportedVersion,
      `version: ${clip(String(msg.version))} is not supported; ` +
        `this server speaks ${PROTOCOL_VERSION}`,
    );
  }

  let mode: SessionMode = options.defaultMode ?? 'agent';
  if (msg.mode !== undefined) {
    if (!(SESSION_MODES as readonly unknown[]).includes(msg.mode)) {
      bad(`mode: must be one of ${SESSION_MODES.join(', ')}`);
    }
    mode = msg.mode as SessionMode;
  }

  const audio = checkAudio(msg.audio);
  const start: SessionStartMessage = {
    type: 'session.start',
    version: PROTOCOL_VERSION,
    mode,
    audio,
  };

  checkLayout(msg, audio, start);

  if (msg.output !== undefined) {
    if (!isObject(msg.output)) bad('output: must be an object');
    const output = msg.output as Obj;
    const codec = checkCodec(output.codec, 'output.codec');
    const sampleRateHz = checkRate(codec, output.sampleRateHz, 'output.sampleRateHz');
    start.output = { codec, sampleRateHz };
  }

  const apiKey = optionalString(msg, 'apiKey');
  if (apiKey !== undefined) start.apiKey = apiKey;
  const resumeToken = optionalString(msg, 'resumeToken');
  if (resumeToken !== undefined) start.resumeToken = resumeToken;
  if (msg.lastEventIndex !== undefined) {
    const index = msg.lastEventIndex;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < -1) {
      bad('lastEventIndex: must be an integer of -1 or more');
    }
    if (resumeToken === undefined) bad('lastEventIndex: only allowed with resumeToken');
    start.lastEventIndex = index as number;
  }
  if (msg.emotion !== undefined) start.emotion = checkEmotion(msg.emotion, audio.channels);
  if (msg.prosodyIntervalMs !== undefined) start.prosodyIntervalMs = prosodyInterval(msg);
  if (msg.metadata !== undefined) start.metadata = checkMetadata(msg.metadata);

  return start;
}

function checkAudio(raw: unknown): AudioFormat {
  if (raw === undefined) bad('audio: required');
  if (!isObject(raw)) bad('audio: must be an object');
  const audio = raw as Obj;

  const codec = checkCodec(audio.codec, 'audio.codec');
  const sampleRateHz = checkRate(codec, audio.sampleRateHz, 'audio.sampleRateHz');

  if (typeof audio.channels !== 'number') bad('audio.channels: required number');
  if (audio.channels !== 1 && audio.channels !== 2) badFormat('audio.channels: must be 1 or 2');
  const channels = audio.channels as 1 | 2;

  if (typeof audio.frameMs !== 'number') bad('audio.frameMs: required number');
  const frameMs = audio.frameMs as number;
  if (!(FRAME_DURATIONS_MS as readonly number[]).includes(frameMs)) {
    badFormat(`audio.frameMs: must be one of ${FRAME_DURATIONS_MS.join(', ')}`);
  }

  return { codec, sampleRateHz, channels, frameMs };
}

function checkCodec(raw: unknown, field: string): Codec {
  if (typeof raw !== 'string') bad(`${field}: required string`);
  if (!(CODECS as readonly unknown[]).includes(raw)) {
    badFormat(`${field}: ${clip(String(raw))} is not one of ${CODECS.join(', ')}`);
  }
  return raw as Codec;
}

function checkRate(codec: Codec, raw: unknown, field: string): SampleRateHz {
  if (typeof raw !== 'number') bad(`${field}: required number`);
  const rate = raw as number;
  if (!(SAMPLE_RATES_HZ as readonly number[]).includes(rate)) {
    badFormat(`${field}: must be one of ${SAMPLE_RATES_HZ.join(', ')}`);
  }
  if (codec === 'opus' && !OPUS_RATES_HZ.includes(rate)) {
    badFormat(`${field}: opus runs at ${OPUS_RATES_HZ.join(', ')} Hz only`);
  }
  if ((codec === 'mulaw' || codec === 'alaw') && rate !== G711_RATE_HZ) {
    badFormat(`${field}: ${codec} is defined at ${G711_RATE_HZ} Hz only`);
  }
  return rate as SampleRateHz;
}

function checkLayout(msg: Obj, audio: AudioFormat, start: SessionStartMessage): void {
  if (msg.channelLayout !== undefined) {
    if (msg.channelLayout !== 'mixed' && msg.channelLayout !== 'separate') {
      bad('channelLayout: must be mixed or separate');
    }
    if (msg.channelLayout === 'separate' && audio.channels !== 2) {
      badFormat('channelLayout: separate needs audio.channels 2');
    }
    start.channelLayout = msg.channelLayout as 'mixed' | 'separate';
  }

  if (msg.channelRoles === undefined) return;
  if (start.channelLayout !== 'separate')
    bad('channelRoles: only allowed with channelLayout separate');
  if (!Array.isArray(msg.channelRoles)) bad('channelRoles: must be an array of strings');
  const roles = msg.channelRoles as unknown[];
  if (roles.length !== audio.channels) bad(`channelRoles: must name ${audio.channels} tracks`);
  for (const role of roles) {
    if (typeof role !== 'string' || role.trim() === '' || role.length > MAX_SHORT_TEXT_CHARS) {
      bad('channelRoles: each role must be a non-empty string');
    }
  }
  if (new Set(roles).size !== roles.length) bad('channelRoles: roles must differ');
  start.channelRoles = roles as string[];
}

function checkEmotion(
  raw: unknown,
  channels: number,
): { enabled?: boolean; disabledChannels?: number[] } {
  if (!isObject(raw)) bad('emotion: must be an object');
  const emotion = raw as Obj;
  const out: { enabled?: boolean; disabledChannels?: number[] } = {};

  if (emotion.enabled !== undefined) {
    if (typeof emotion.enabled !== 'boolean') bad('emotion.enabled: must be a boolean');
    out.enabled = emotion.enabled as boolean;
  }
  if (emotion.disabledChannels !== undefined) {
    const list = emotion.disabledChannels;
    const okList =
      Array.isArray(list) &&
      list.every((c) => Number.isInteger(c) && (c as number) >= 0 && (c as number) < channels);
    if (!okList) bad(`emotion.disabledChannels: must be channel indexes below ${channels}`);
    out.disabledChannels = [...(list as number[])];
  }
  return out;
}

function checkMetadata(raw: unknown): Record<string, string> {
  if (!isObject(raw)) bad('metadata: must be an object of strings');
  const entries = Object.entries(raw as Obj);
  if (entries.length > MAX_METADATA_ENTRIES)
    bad(`metadata: at most ${MAX_METADATA_ENTRIES} labels`);

  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (typeof value !== 'string') bad(`metadata.${clip(key)}: must be a string`);
    if (key.length > MAX_METADATA_CHARS || (value as string).length > MAX_METADATA_CHARS) {
      bad(`metadata: keys and values are at most ${MAX_METADATA_CHARS} characters`);
    }
    out[key] = value as string;
  }
  return out;
}

function prosodyInterval(msg: Obj): number {
  const v = msg.prosodyIntervalMs;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 10_000) {
    bad('prosodyIntervalMs: must be an integer from 0 to 10000');
  }
  return v as number;
}

function finite(msg: Obj, field: string): number {
  const v = msg[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${field}: required finite number`);
  return v as number;
}

function requiredString(msg: Obj, field: string, maxChars = MAX_SHORT_TEXT_CHARS): string {
  const v = msg[field];
  if (typeof v !== 'string') bad(`${field}: required string`);
  if ((v as string).length > maxChars) bad(`${field}: at most ${maxChars} characters`);
  return v as string;
}

function optionalString(msg: Obj, field: string): string | undefined {
  return msg[field] === undefined ? undefined : requiredString(msg, field);
}

/** Client text echoed in an error message is cut short and never trusted for length. */
const clip = (text: string): string =>
  JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
