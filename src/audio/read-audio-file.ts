/**
 * Whole audio files to float channels: WAV (any layout `wav.ts` reads), Ogg Opus, or headerless
 * raw samples of a format the caller states. Used by the REST transcribe route and the `talk`
 * CLI. Samples come back finite and within [-1, 1]. Bad data becomes an `UndertoneError` with
 * `UT_ERR_BAD_AUDIO_FORMAT`.
 */
import { readFile } from 'node:fs/promises';
import { UndertoneError } from '../errors/undertone-error.js';
import { ERROR_CODES } from '../protocol/error-codes.js';
import { pcm16ToFloat } from './audio-input.js';
import { concatSamples, deinterleave, sanitizeSamples } from './channel-mix.js';
import { decodeALaw, decodeMuLaw } from './g711.js';
import { demuxOggOpus } from './ogg-opus.js';
import { OpusStreamDecoder, type OpusDecodeRateHz } from './opus-stream-decoder.js';
import { parseWav } from './wav.js';

export interface DecodedAudio {
  sampleRateHz: number;
  /** One array per channel, samples in [-1, 1]. */
  channels: Float32Array[];
  /** What was repaired on the way (dropped pages, a cut-off end, bad packets). */
  warnings: string[];
}

/** Layout of a headerless file. */
export interface RawAudioFormat {
  codec: 'pcm16' | 'f32' | 'mulaw' | 'alaw';
  sampleRateHz: number;
  channels: number;
}

export interface ReadAudioOptions {
  /** Required for data that is neither WAV nor Ogg. */
  raw?: RawAudioFormat;
  /** Rate to decode Opus at (default 48000; 16000 skips a resampling step for ASR). */
  opusRateHz?: OpusDecodeRateHz;
}

const badFormat = (message: string, cause?: unknown): UndertoneError =>
  new UndertoneError(ERROR_CODES.badAudioFormat, message, { category: 'bad-input', cause });

/** Reads and decodes a file from disk. */
export async function readAudioFile(
  path: string,
  options: ReadAudioOptions = {},
): Promise<DecodedAudio> {
  return decodeAudioBytes(new Uint8Array(await readFile(path)), options);
}

/** Decodes a file held in memory, recognising WAV and Ogg by their magic bytes. */
export function decodeAudioBytes(data: Uint8Array, options: ReadAudioOptions = {}): DecodedAudio {
  const audio = decodeByKind(data, options);
  const nonFinite = audio.channels.reduce((n, c) => n + sanitizeSamples(c), 0);
  if (nonFinite > 0)
    audio.warnings.push(`${nonFinite} NaN or infinite samples replaced by silence`);
  return audio;
}

function decodeByKind(data: Uint8Array, options: ReadAudioOptions): DecodedAudio {
  const magic = String.fromCharCode(...data.subarray(0, 4));
  if (magic === 'RIFF') {
    try {
      const wav = parseWav(data);
      return { sampleRateHz: wav.sampleRateHz, channels: wav.channels, warnings: [] };
    } catch (err) {
      throw badFormat(`unreadable WAV file: ${(err as Error).message}`, err);
    }
  }
  if (magic === 'OggS') return decodeOggOpus(data, options.opusRateHz ?? 48000);
  if (options.raw) return decodeRaw(data, options.raw);
  throw badFormat('not a WAV or Ogg Opus file, and no raw format was given');
}

/** Decodes an Ogg Opus file: pre-skip and end trimming applied, dropped pages filled in place. */
export function decodeOggOpus(data: Uint8Array, rateHz: OpusDecodeRateHz = 48000): DecodedAudio {
  let stream;
  try {
    stream = demuxOggOpus(data);
  } catch (err) {
    throw badFormat(`unreadable Ogg Opus file: ${(err as Error).message}`, err);
  }
  const { head, packets } = stream;
  if (head.channels < 1 || head.channels > 2 || head.mappingFamily !== 0) {
    throw badFormat(
      `Ogg Opus with ${head.channels} channels, mapping ${head.mappingFamily}, is not supported`,
    );
  }

  const warnings: string[] = [];
  if (stream.badPages > 0) warnings.push(`${stream.badPages} Ogg pages with a bad CRC dropped`);
  if (stream.truncated)
    warnings.push('file ends inside an Ogg page; decoded up to the last whole page');

  const channels = head.channels as 1 | 2;
  const scale = rateHz / 48000;
  const decoder = new OpusStreamDecoder(rateHz, channels);
  const parts: Float32Array[] = [];
  let position = 0;
  let badPackets = 0;
  for (const packet of packets) {
    if (packet.startSample > position) {
      parts.push(decoder.conceal(Math.round((packet.startSample - position) * scale)));
      position = packet.startSample;
    }
    const result = decoder.decode(packet.data);
    if (result.error) badPackets++;
    parts.push(result.samples);
    position += packet.durationSamples;
  }
  if (badPackets > 0) warnings.push(`${badPackets} undecodable Opus packets concealed`);

  const all = concatSamples(parts);
  const from = Math.round(head.preSkip * scale) * channels;
  const end = stream.truncated ? position : stream.endSample;
  const to = Math.min(all.length, Math.round(end * scale) * channels);
  const body = all.subarray(Math.min(from, to), to);
  if (head.outputGainDb !== 0) {
    const gain = 10 ** (head.outputGainDb / 20);
    for (let i = 0; i < body.length; i++) body[i]! *= gain;
  }
  return { sampleRateHz: rateHz, channels: deinterleave(body.slice(), channels), warnings };
}

function decodeRaw(data: Uint8Array, format: RawAudioFormat): DecodedAudio {
  const { codec, sampleRateHz, channels } = format;
  if (
    !(
      Number.isInteger(sampleRateHz) &&
      sampleRateHz > 0 &&
      Number.isInteger(channels) &&
      channels > 0
    )
  ) {
    throw badFormat(`bad raw format: ${channels} channels at ${sampleRateHz} Hz`);
  }

  const bytesPerSample = codec === 'pcm16' ? 2 : codec === 'f32' ? 4 : 1;
  const usable = data.byteLength - (data.byteLength % (bytesPerSample * channels));
  const body = data.subarray(0, usable);
  let samples: Float32Array;
  if (codec === 'pcm16') samples = pcm16ToFloat(body);
  else if (codec === 'mulaw') samples = decodeMuLaw(body);
  else if (codec === 'alaw') samples = decodeALaw(body);
  else {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    samples = Float32Array.from({ length: usable / 4 }, (_, i) => view.getFloat32(4 * i, true));
  }
  const warnings =
    usable < data.byteLength ? [`${data.byteLength - usable} trailing bytes ignored`] : [];
  return { sampleRateHz, channels: deinterleave(samples, channels), warnings };
}
