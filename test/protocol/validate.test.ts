import { describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../src/protocol/validate.js';

const audio = { codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20 };
const start = (extra: Record<string, unknown> = {}) => ({
  type: 'session.start',
  version: 1,
  mode: 'agent',
  audio,
  ...extra,
});
const withAudio = (a: Record<string, unknown>) => start({ audio: { ...audio, ...a } });

describe('parseClientMessage accepts', () => {
  it.each([
    ['a minimal session.start', start()],
    ['opus at 48 kHz, 60 ms', withAudio({ codec: 'opus', sampleRateHz: 48000, frameMs: 60 })],
    ['opus at 8 kHz, 120 ms', withAudio({ codec: 'opus', sampleRateHz: 8000, frameMs: 120 })],
    ['mu-law at 8 kHz', withAudio({ codec: 'mulaw', sampleRateHz: 8000 })],
    ['a-law at 8 kHz, 10 ms', withAudio({ codec: 'alaw', sampleRateHz: 8000, frameMs: 10 })],
    [
      'stereo separate with roles',
      start({
        audio: { ...audio, channels: 2 },
        channelLayout: 'separate',
        channelRoles: ['agent', 'customer'],
      }),
    ],
    ['stereo mixed', start({ audio: { ...audio, channels: 2 }, channelLayout: 'mixed' })],
    ['an output format', start({ output: { codec: 'opus', sampleRateHz: 24000 } })],
    ['resume fields', start({ resumeToken: 'abc', lastEventIndex: 12 })],
    [
      'emotion, prosody and metadata',
      start({
        emotion: { enabled: true, disabledChannels: [0] },
        prosodyIntervalMs: 0,
        metadata: { call: '42' },
      }),
    ],
    ['session.end', { type: 'session.end', reason: 'bye' }],
    ['ping', { type: 'ping', id: 3, clientTimeMs: 1234.5 }],
    ['playback.position', { type: 'playback.position', responseId: 'r1', playedMs: 480 }],
    ['input.text', { type: 'input.text', text: 'hello' }],
    [
      'session.update',
      { type: 'session.update', prosodyIntervalMs: 200, emotion: { enabled: false } },
    ],
  ])('%s', (_name, message) => {
    const result = parseClientMessage(JSON.stringify(message));
    expect(result).toMatchObject({ ok: true, message: { type: message.type } });
  });

  it('fills in the default mode and drops unknown fields', () => {
    const result = parseClientMessage(
      JSON.stringify({ type: 'session.start', version: 1, audio, extra: 1 }),
      {
        defaultMode: 'transcribe',
      },
    );
    expect(result).toEqual({
      ok: true,
      message: { type: 'session.start', version: 1, mode: 'transcribe', audio },
    });
  });
});

describe('parseClientMessage rejects', () => {
  it.each([
    ['broken JSON', '{"type":', 'UT_ERR_BAD_JSON'],
    ['empty text', '', 'UT_ERR_BAD_JSON'],
    ['a JSON array', '[1,2]', 'UT_ERR_BAD_MESSAGE'],
    ['a JSON string', '"ping"', 'UT_ERR_BAD_MESSAGE'],
    ['null', 'null', 'UT_ERR_BAD_MESSAGE'],
    ['a missing type', '{"id":1}', 'UT_ERR_BAD_MESSAGE'],
    ['a numeric type', '{"type":5}', 'UT_ERR_BAD_MESSAGE'],
    ['an unknown type', '{"type":"session.pause"}', 'UT_ERR_UNKNOWN_MESSAGE'],
    ['a server event type', '{"type":"session.started"}', 'UT_ERR_UNKNOWN_MESSAGE'],
  ])('%s', (_name, text, code) => {
    expect(parseClientMessage(text)).toMatchObject({ ok: false, code });
  });

  it.each([
    ['no version', { type: 'session.start', audio }, 'UT_ERR_BAD_MESSAGE'],
    ['a string version', start({ version: '1' }), 'UT_ERR_BAD_MESSAGE'],
    ['version 2', start({ version: 2 }), 'UT_ERR_UNSUPPORTED_VERSION'],
    ['version 0', start({ version: 0 }), 'UT_ERR_UNSUPPORTED_VERSION'],
    ['an unknown mode', start({ mode: 'chat' }), 'UT_ERR_BAD_MESSAGE'],
    ['no audio', { type: 'session.start', version: 1 }, 'UT_ERR_BAD_MESSAGE'],
    ['audio as a string', start({ audio: 'pcm16' }), 'UT_ERR_BAD_MESSAGE'],
    ['an unknown codec', withAudio({ codec: 'mp3' }), 'UT_ERR_BAD_AUDIO_FORMAT'],
    ['a rate as text', withAudio({ sampleRateHz: '16000' }), 'UT_ERR_BAD_MESSAGE'],
    ['a rate we do not take', withAudio({ sampleRateHz: 44100 }), 'UT_ERR_BAD_AUDIO_FORMAT'],
    [
      'mu-law at 16 kHz',
      withAudio({ codec: 'mulaw', sampleRateHz: 16000 }),
      'UT_ERR_BAD_AUDIO_FORMAT',
    ],
    [
      'a-law at 48 kHz',
      withAudio({ codec: 'alaw', sampleRateHz: 48000 }),
      'UT_ERR_BAD_AUDIO_FORMAT',
    ],
    ['three channels', withAudio({ channels: 3 }), 'UT_ERR_BAD_AUDIO_FORMAT'],
    ['zero channels', withAudio({ channels: 0 }), 'UT_ERR_BAD_AUDIO_FORMAT'],
    ['a 25 ms frame', withAudio({ frameMs: 25 }), 'UT_ERR_BAD_AUDIO_FORMAT'],
    ['a 5 ms opus frame', withAudio({ codec: 'opus', frameMs: 5 }), 'UT_ERR_BAD_AUDIO_FORMAT'],
    ['a 240 ms frame', withAudio({ frameMs: 240 }), 'UT_ERR_BAD_AUDIO_FORMAT'],
    ['separate layout on mono', start({ channelLayout: 'separate' }), 'UT_ERR_BAD_AUDIO_FORMAT'],
    ['an unknown layout', start({ channelLayout: 'split' }), 'UT_ERR_BAD_MESSAGE'],
    [
      'roles without separate',
      start({ audio: { ...audio, channels: 2 }, channelRoles: ['a', 'b'] }),
      'UT_ERR_BAD_MESSAGE',
    ],
    [
      'one role for two tracks',
      start({ audio: { ...audio, channels: 2 }, channelLayout: 'separate', channelRoles: ['a'] }),
      'UT_ERR_BAD_MESSAGE',
    ],
    [
      'equal roles',
      start({
        audio: { ...audio, channels: 2 },
        channelLayout: 'separate',
        channelRoles: ['a', 'a'],
      }),
      'UT_ERR_BAD_MESSAGE',
    ],
    [
      'an empty role',
      start({
        audio: { ...audio, channels: 2 },
        channelLayout: 'separate',
        channelRoles: ['a', ' '],
      }),
      'UT_ERR_BAD_MESSAGE',
    ],
    [
      'output mu-law at 24 kHz',
      start({ output: { codec: 'mulaw', sampleRateHz: 24000 } }),
      'UT_ERR_BAD_AUDIO_FORMAT',
    ],
    ['output without codec', start({ output: { sampleRateHz: 16000 } }), 'UT_ERR_BAD_MESSAGE'],
    ['a numeric apiKey', start({ apiKey: 12345678 }), 'UT_ERR_BAD_MESSAGE'],
    ['lastEventIndex without a token', start({ lastEventIndex: 3 }), 'UT_ERR_BAD_MESSAGE'],
    [
      'a fractional lastEventIndex',
      start({ resumeToken: 't', lastEventIndex: 1.5 }),
      'UT_ERR_BAD_MESSAGE',
    ],
    [
      'emotion off a channel that is not there',
      start({ emotion: { disabledChannels: [1] } }),
      'UT_ERR_BAD_MESSAGE',
    ],
    ['prosody interval past 10 s', start({ prosodyIntervalMs: 20000 }), 'UT_ERR_BAD_MESSAGE'],
    ['numeric metadata', start({ metadata: { call: 42 } }), 'UT_ERR_BAD_MESSAGE'],
  ])('session.start with %s', (_name, message, code) => {
    expect(parseClientMessage(JSON.stringify(message))).toMatchObject({ ok: false, code });
  });

  it.each([
    ['ping without id', { type: 'ping', clientTimeMs: 1 }],
    ['ping with a string id', { type: 'ping', id: '1', clientTimeMs: 1 }],
    [
      'playback.position with negative ms',
      { type: 'playback.position', responseId: 'r', playedMs: -1 },
    ],
    ['input.text that is blank', { type: 'input.text', text: '   ' }],
    ['input.text that is too long', { type: 'input.text', text: 'x'.repeat(4001) }],
    ['session.end with a numeric reason', { type: 'session.end', reason: 5 }],
    ['session.update with a bad interval', { type: 'session.update', prosodyIntervalMs: -5 }],
  ])('%s', (_name, message) => {
    expect(parseClientMessage(JSON.stringify(message))).toMatchObject({
      ok: false,
      code: 'UT_ERR_BAD_MESSAGE',
    });
  });

  it('names the field and cuts long client text in its message', () => {
    const result = parseClientMessage(JSON.stringify({ type: 'x'.repeat(500) }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message.length).toBeLessThan(120);
    const rate = parseClientMessage(
      JSON.stringify(withAudio({ codec: 'mulaw', sampleRateHz: 16000 })),
    );
    if (!rate.ok) expect(rate.message).toContain('audio.sampleRateHz');
  });
});
