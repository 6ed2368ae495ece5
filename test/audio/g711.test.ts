import { describe, expect, it } from 'vitest';
import {
  ALAW_TO_INT16,
  MULAW_TO_INT16,
  linearToALaw,
  linearToMuLaw,
} from '../../src/audio/g711.js';

describe('G.711', () => {
  it('decodes mu-law to the full 16-bit scale of the standard table', () => {
    expect(MULAW_TO_INT16[0x00]).toBe(-32124);
    expect(MULAW_TO_INT16[0x80]).toBe(32124);
    expect(MULAW_TO_INT16[0x7f]).toBe(0);
    expect(MULAW_TO_INT16[0xff]).toBe(0);
    expect(MULAW_TO_INT16[0x70]).toBe(-120);
    expect(MULAW_TO_INT16[0xf0]).toBe(120);
  });

  it('decodes A-law to the full 16-bit scale of the standard table', () => {
    expect(ALAW_TO_INT16[0xd5]).toBe(8);
    expect(ALAW_TO_INT16[0x55]).toBe(-8);
    expect(ALAW_TO_INT16[0xaa]).toBe(32256);
    expect(ALAW_TO_INT16[0x2a]).toBe(-32256);
  });

  it('round-trips every mu-law code (0x7f and 0xff both mean zero)', () => {
    for (let c = 0; c < 256; c++) {
      const back = linearToMuLaw(MULAW_TO_INT16[c]!);
      expect(back === c || (c === 0x7f && back === 0xff)).toBe(true);
    }
  });

  it('round-trips every A-law code', () => {
    for (let c = 0; c < 256; c++) expect(linearToALaw(ALAW_TO_INT16[c]!)).toBe(c);
  });
});
