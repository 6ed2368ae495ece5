/**
 * ITU-T G.711 mu-law and A-law, as 256-entry decode tables (exact per the standard, 16-bit
 * linear scale) and encoders. A common bug decodes to 14- or 13-bit scale, 12 dB too quiet;
 * these tables are full 16-bit scale: mu-law 0x00 decodes to -32124, A-law 0xD5 to 8.
 */

function muLawToLinear(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

function aLawToLinear(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** Decoded value of each mu-law byte, 16-bit linear. */
export const MULAW_TO_INT16 = Int16Array.from({ length: 256 }, (_, i) => muLawToLinear(i));
/** Decoded value of each A-law byte, 16-bit linear. */
export const ALAW_TO_INT16 = Int16Array.from({ length: 256 }, (_, i) => aLawToLinear(i));

const MULAW_F32 = Float32Array.from(MULAW_TO_INT16, (v) => v / 32768);
const ALAW_F32 = Float32Array.from(ALAW_TO_INT16, (v) => v / 32768);

export function decodeMuLaw(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = MULAW_F32[bytes[i]!]!;
  return out;
}

export function decodeALaw(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ALAW_F32[bytes[i]!]!;
  return out;
}

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

/** Encodes one 16-bit sample to mu-law (G.711, with the standard bias and clip). */
export function linearToMuLaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > MULAW_CLIP) s = MULAW_CLIP;
  s += MULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Encodes one 16-bit sample to A-law (G.711). */
export function linearToALaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  let code: number;
  if (s < 256) {
    code = s >> 4;
  } else {
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 1; mask >>= 1) exponent--;
    code = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (code | sign) ^ 0x55;
}

export function encodeMuLaw(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToMuLaw(samples[i]! * 32768);
  return out;
}

export function encodeALaw(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = linearToALaw(samples[i]! * 32768);
  return out;
}
