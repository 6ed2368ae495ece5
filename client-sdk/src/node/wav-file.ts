/**
 * A small WAV reader for SDK users who hand the client a file: PCM 8/16/24/32-bit and IEEE float
 * 32-bit, any rate and channel count. (The server has a fuller reader; the SDK may not import it.)
 */
import { readFile } from 'node:fs/promises';
import { CLIENT_ERROR_CODES, UndertoneClientError } from '../errors.js';

export interface DecodedAudio {
  sampleRateHz: number;
  /** One array per channel, floats in [-1, 1]. */
  channels: Float32Array[];
}

export async function readWavFile(path: string): Promise<DecodedAudio> {
  return parseWavBytes(new Uint8Array(await readFile(path)));
}

export function parseWavBytes(data: Uint8Array): DecodedAudio {
  const bad = (why: string) =>
    new UndertoneClientError(CLIENT_ERROR_CODES.badWav, `not a usable WAV: ${why}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tag = (at: number) => String.fromCharCode(...data.subarray(at, at + 4));
  if (data.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE')
    throw bad('no RIFF/WAVE header');

  let format = 0;
  let channelCount = 0;
  let rate = 0;
  let bits = 0;
  let body: Uint8Array | undefined;
  for (let at = 12; at + 8 <= data.byteLength; ) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    if (id === 'fmt ') {
      format = view.getUint16(at + 8, true);
      if (format === 0xfffe && size >= 26) format = view.getUint16(at + 32, true);
      channelCount = view.getUint16(at + 10, true);
      rate = view.getUint32(at + 12, true);
      bits = view.getUint16(at + 22, true);
    } else if (id === 'data') {
      body = data.subarray(at + 8, Math.min(at + 8 + size, data.byteLength));
    }
    at += 8 + size + (size & 1);
  }
  if (!body || channelCount < 1 || rate < 1) throw bad('missing fmt or data chunk');
  if (format !== 1 && !(format === 3 && bits === 32))
    throw bad(`format ${format}/${bits} bit is not supported`);

  const bytes = bits / 8;
  const frames = Math.floor(body.byteLength / (bytes * channelCount));
  const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
  const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channelCount; c++) {
      channels[c]![i] = sampleAt(bodyView, (i * channelCount + c) * bytes, format, bits);
    }
  }
  return { sampleRateHz: rate, channels };
}

function sampleAt(view: DataView, at: number, format: number, bits: number): number {
  if (format === 3) return view.getFloat32(at, true);
  switch (bits) {
    case 8:
      return (view.getUint8(at) - 128) / 128;
    case 16:
      return view.getInt16(at, true) / 32768;
    case 24:
      return (
        (view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 8388608
      );
    case 32:
      return view.getInt32(at, true) / 2147483648;
    default:
      throw new UndertoneClientError(CLIENT_ERROR_CODES.badWav, `${bits}-bit PCM is not supported`);
  }
}
