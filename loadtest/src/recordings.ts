/**
 * The speech simulated callers say: WAV (PCM16 or float32, any rate, mono or stereo) and
 * headerless `.raw` files (16 kHz mono s16le) from a folder, cut at pauses into utterances and
 * encoded once, up front, into the 20 ms frames of the codec under test. Callers replay the frames;
 * nothing is encoded while the clock runs, so hundreds of callers cost little CPU.
 *
 * The load tester is a client of the public protocol only, so it reads WAV itself instead of
 * importing the server's audio code.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Encoder } from '@evan/opus';
import {
  PROTOCOL_VERSION,
  type Codec,
  type SessionMode,
  type SessionStartMessage,
} from '../../src/protocol/messages.js';

/** One spoken turn, ready to send: one payload per frame. */
export interface Utterance {
  source: string;
  frames: Uint8Array[];
  durationMs: number;
  /**
   * Index of the frame where speech begins (see `speechOnsetFrame`), or null when the clip holds
   * no run of speech-level audio (a hum, breath or noise the splitter kept).
   */
  speechOnsetFrame: number | null;
}

export interface CodecSetup {
  codec: Exclude<Codec, 'alaw'>;
  sampleRateHz: 8000 | 16000 | 48000;
  frameMs: 20;
}

/** Codec, rate and frame size a caller declares for each `--codec`. */
export function codecSetup(codec: CodecSetup['codec']): CodecSetup {
  if (codec === 'mulaw') return { codec, sampleRateHz: 8000, frameMs: 20 };
  if (codec === 'opus') return { codec, sampleRateHz: 48000, frameMs: 20 };
  return { codec, sampleRateHz: 16000, frameMs: 20 };
}

/** The `session.start` a caller sends for `setup`: mono audio in `mode`, nothing optional. */
export function startMessage(setup: CodecSetup, mode: SessionMode): SessionStartMessage {
  return {
    type: 'session.start',
    version: PROTOCOL_VERSION,
    mode,
    audio: {
      codec: setup.codec,
      sampleRateHz: setup.sampleRateHz,
      channels: 1,
      frameMs: setup.frameMs,
    },
  };
}

export interface SpeechSet {
  utterances: Utterance[];
  /** One frame of digital silence in the codec. */
  silence: Uint8Array;
}

export interface LoadSpeechOptions {
  dir: string;
  setup: CodecSetup;
  /** Pauses at least this long split a recording into utterances; default 500 ms. */
  splitPauseMs?: number;
  /** Longer utterances are cut to this length; default 8000 ms. */
  maxUtteranceMs?: number;
  /** Utterances shorter than this are dropped; default 400 ms. */
  minUtteranceMs?: number;
}

/** The default folder: `../shared/audio/speech` when present, else the committed fixtures. */
export function defaultRecordingsDir(root: string): string {
  const shared = join(root, '..', 'shared', 'audio', 'speech');
  return existsSync(shared) ? shared : join(root, 'test', 'fixtures', 'speech');
}

/** Loads, splits and encodes every recording in `dir`; throws when none is usable. */
export function loadSpeech(options: LoadSpeechOptions): SpeechSet {
  const { dir, setup } = options;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`recordings folder ${dir} does not exist`);
  }
  const utterances: Utterance[] = [];
  for (const name of readdirSync(dir).sort()) {
    const ext = extname(name).toLowerCase();
    if (ext !== '.wav' && ext !== '.raw') continue;
    const { samples, sampleRateHz } = readMono(join(dir, name));
    const pcm = resampleLinear(samples, sampleRateHz, setup.sampleRateHz);
    for (const clip of splitAtPauses(pcm, setup.sampleRateHz, options)) {
      const frames = encodeFrames(clip, setup);
      const speechOnset = speechOnsetFrame(clip, setup.sampleRateHz);
      const durationMs = frames.length * setup.frameMs;
      utterances.push({ source: name, frames, durationMs, speechOnsetFrame: speechOnset });
    }
  }
  if (utterances.length === 0) throw new Error(`no usable .wav or .raw speech in ${dir}`);

  const silentFrame = new Float32Array((setup.sampleRateHz * setup.frameMs) / 1000);
  return { utterances, silence: encodeFrames(silentFrame, setup)[0]! };
}

/** Reads a WAV or 16 kHz s16le `.raw` file as mono float samples. */
export function readMono(path: string): { samples: Float32Array; sampleRateHz: number } {
  const bytes = readFileSync(path);
  if (extname(path).toLowerCase() === '.raw') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const samples = new Float32Array(bytes.byteLength >> 1);
    for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / 32768;
    return { samples, sampleRateHz: 16000 };
  }
  return parseWavMono(bytes);
}

/** Minimal RIFF/WAVE reader: PCM16 (format 1) or float32 (format 3), channels averaged. */
export function parseWavMono(bytes: Uint8Array): { samples: Float32Array; sampleRateHz: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE')
    throw new Error('not a WAV file');

  let format = 0;
  let channels = 0;
  let sampleRateHz = 0;
  let bits = 0;
  for (let at = 12; at + 8 <= bytes.byteLength; ) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      format = view.getUint16(body, true);
      channels = view.getUint16(body + 2, true);
      sampleRateHz = view.getUint32(body + 4, true);
      bits = view.getUint16(body + 14, true);
      if (format === 0xfffe) format = view.getUint16(body + 24, true);
    } else if (id === 'data') {
      const end = Math.min(bytes.byteLength, body + size);
      return { samples: mixDown(view, body, end, format, bits, channels), sampleRateHz };
    }
    at = body + size + (size & 1);
  }
  throw new Error('WAV file has no data chunk');
}

function mixDown(
  view: DataView,
  from: number,
  to: number,
  format: number,
  bits: number,
  channels: number,
): Float32Array {
  const width = bits / 8;
  if (!((format === 1 && bits === 16) || (format === 3 && bits === 32)) || channels < 1) {
    throw new Error(`unsupported WAV encoding (format ${format}, ${bits} bits)`);
  }
  const count = Math.floor((to - from) / (width * channels));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const at = from + (i * channels + c) * width;
      const v = format === 1 ? view.getInt16(at, true) / 32768 : view.getFloat32(at, true);
      sum += Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
    }
    out[i] = sum / channels;
  }
  return out;
}

/** Linear-interpolation resampler with a 2-tap average when going down (good enough for load). */
export function resampleLinear(input: Float32Array, fromHz: number, toHz: number): Float32Array {
  if (fromHz === toHz) return input;
  const source = toHz < fromHz ? boxSmooth(input, Math.round(fromHz / toHz)) : input;
  const out = new Float32Array(Math.floor((input.length * toHz) / fromHz));
  const step = fromHz / toHz;
  for (let i = 0; i < out.length; i++) {
    const pos = i * step;
    const at = Math.floor(pos);
    const frac = pos - at;
    const a = source[at] ?? 0;
    const b = source[at + 1] ?? a;
    out[i] = a + (b - a) * frac;
  }
  return out;
}

function boxSmooth(input: Float32Array, width: number): Float32Array {
  if (width <= 1) return input;
  const out = new Float32Array(input.length);
  let sum = 0;
  for (let i = 0; i < input.length; i++) {
    sum += input[i]!;
    if (i >= width) sum -= input[i - width]!;
    out[i] = sum / Math.min(width, i + 1);
  }
  return out;
}

/**
 * Cuts at pauses of `splitPauseMs` or more, judged per 20 ms frame by energy relative to the
 * recording's loud frames, and trims leading and trailing silence of each clip.
 */
export function splitAtPauses(
  pcm: Float32Array,
  sampleRateHz: number,
  options: Omit<LoadSpeechOptions, 'dir' | 'setup'> = {},
): Float32Array[] {
  const splitPauseMs = options.splitPauseMs ?? 500;
  const maxMs = options.maxUtteranceMs ?? 8000;
  const minMs = options.minUtteranceMs ?? 400;
  const frame = (sampleRateHz * 20) / 1000;
  const count = Math.floor(pcm.length / frame);
  if (count === 0) return [];

  const db = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    let sum = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) sum += pcm[i]! * pcm[i]!;
    db[f] = 10 * Math.log10(sum / frame + 1e-12);
  }
  const loud = Float64Array.from(db).sort()[Math.floor(count * 0.95)]!;
  const threshold = Math.max(-55, loud - 30);

  const clips: Float32Array[] = [];
  const pauseFrames = Math.ceil(splitPauseMs / 20);
  const maxFrames = Math.floor(maxMs / 20);
  let start = -1;
  let lastVoiced = -1;
  const flush = (): void => {
    if (start >= 0 && (lastVoiced - start + 1) * 20 >= minMs) {
      clips.push(pcm.slice(start * frame, (lastVoiced + 1) * frame));
    }
    start = -1;
  };
  for (let f = 0; f < count; f++) {
    const voiced = db[f]! >= threshold;
    if (voiced) {
      if (start < 0) start = f;
      lastVoiced = f;
      if (f - start + 1 >= maxFrames) flush();
    } else if (start >= 0 && f - lastVoiced >= pauseFrames) {
      flush();
    }
  }
  flush();
  return clips;
}

/** Speech level: at least this loud (dBFS) and within `ONSET_BELOW_LOUD_DB` of the clip's loud frames. */
const ONSET_MIN_DB = -40;
const ONSET_BELOW_LOUD_DB = 20;
/** Frames in a row (100 ms) at speech level that make an onset. */
const ONSET_RUN_FRAMES = 5;

/**
 * The first 20 ms frame of the first 100 ms run at speech level (at least -40 dBFS and within
 * 20 dB of the clip's 95th-percentile frame), or null when there is none. The splitter keeps
 * quiet lead-ins (breath, room tone, the tail of a cut sentence), so a clip's first frame is not
 * where its speech starts: barge-in stop time is measured from this frame instead.
 */
export function speechOnsetFrame(pcm: Float32Array, sampleRateHz: number): number | null {
  const frame = (sampleRateHz * 20) / 1000;
  const count = Math.floor(pcm.length / frame);
  if (count === 0) return null;
  const db = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    let sum = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) sum += pcm[i]! * pcm[i]!;
    db[f] = 10 * Math.log10(sum / frame + 1e-12);
  }
  const loud = Float64Array.from(db).sort()[Math.floor(count * 0.95)]!;
  const threshold = Math.max(ONSET_MIN_DB, loud - ONSET_BELOW_LOUD_DB);
  let run = 0;
  for (let f = 0; f < count; f++) {
    run = db[f]! >= threshold ? run + 1 : 0;
    if (run >= ONSET_RUN_FRAMES) return f - ONSET_RUN_FRAMES + 1;
  }
  return null;
}

/** Encodes whole 20 ms frames of `pcm` (the tail is zero-padded). */
export function encodeFrames(pcm: Float32Array, setup: CodecSetup): Uint8Array[] {
  const frame = (setup.sampleRateHz * setup.frameMs) / 1000;
  const encoder =
    setup.codec === 'opus'
      ? new Encoder({ channels: 1, sample_rate: setup.sampleRateHz, application: 'voip' })
      : undefined;
  const frames: Uint8Array[] = [];
  for (let at = 0; at < pcm.length; at += frame) {
    const int16 = new Int16Array(frame);
    for (let i = 0; i < frame; i++) {
      const v = pcm[at + i] ?? 0;
      int16[i] = Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
    }
    if (encoder) frames.push(encoder.encode(new Uint8Array(int16.buffer)).slice());
    else if (setup.codec === 'mulaw') frames.push(muLawEncode(int16));
    else frames.push(new Uint8Array(int16.buffer));
  }
  return frames;
}

/** G.711 mu-law, the classic segment encoder. */
export function muLawEncode(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    let s = samples[i]!;
    const sign = s < 0 ? 0x80 : 0;
    if (s < 0) s = -s;
    s = Math.min(s, 32635) + 0x84;
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
    const mantissa = (s >> (exponent + 3)) & 0x0f;
    out[i] = ~(sign | (exponent << 4) | mantissa) & 0xff;
  }
  return out;
}
