/**
 * `undertone talk` against the SDK's server test double (protocol v1 on loopback, no models):
 * usage and connection errors, and a file streamed with `--json`. The run against the real
 * server is `../shared/bin/try-main-job` and test/integration/browser-demo.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeWav } from '../../src/audio/wav.js';
import { talkCommand } from '../../src/cli/talk.js';
import { ServerTestDouble } from '../../client-sdk/test/server-test-double.js';

function capture(): { out(): string; err(): string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(
    (chunk: string | Uint8Array) => ((out += chunk.toString()), true),
  );
  vi.spyOn(process.stderr, 'write').mockImplementation(
    (chunk: string | Uint8Array) => ((err += chunk.toString()), true),
  );
  return { out: () => out, err: () => err };
}

function toneWav(seconds: number, rateHz = 16000): string {
  const samples = Float32Array.from({ length: seconds * rateHz }, (_, i) => 0.3 * Math.sin(i / 5));
  const file = join(mkdtempSync(join(tmpdir(), 'talk-')), 'tone.wav');
  writeFileSync(file, encodeWav([samples], rateHz));
  return file;
}

let double: ServerTestDouble | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await double?.close();
  double = undefined;
});

describe('undertone talk', () => {
  it('exits 2 with usage when the file is missing or an option is bad', async () => {
    const io = capture();
    expect(await talkCommand([])).toBe(2);
    expect(io.err()).toContain('a WAV file is required');
    expect(await talkCommand(['x.wav', '--codec', 'mp3'])).toBe(2);
    // Roles name the two tracks of a stereo transcribe call; a mono file has none.
    const mono = 'test/fixtures/speech/hello_weather.16k.wav';
    expect(await talkCommand([mono, '--mode', 'transcribe', '--roles', 'agent,customer'])).toBe(2);
    expect(io.err()).toContain('--roles takes two names');
  });

  it('exits 1 with one line, no stack trace, when nothing listens or the file is not a WAV', async () => {
    const io = capture();
    expect(await talkCommand([toneWav(0.2), '--url', 'ws://127.0.0.1:1'])).toBe(1);
    expect(io.err()).toMatch(
      /^undertone talk: cannot start a session at ws:\/\/127\.0\.0\.1:1: .+\n$/,
    );
    expect(io.err()).not.toMatch(/\n\s+at /);

    const notWav = join(mkdtempSync(join(tmpdir(), 'talk-')), 'x.wav');
    writeFileSync(notWav, 'hello');
    expect(await talkCommand([notWav])).toBe(1);
    expect(io.err()).toContain('not a RIFF/WAVE file');
  });

  it('streams a file in Opus and prints one JSON event per line, ending with session.ended', async () => {
    double = await ServerTestDouble.start({ prosodyEveryFrames: 10 });
    const io = capture();
    const code = await talkCommand([
      toneWav(0.5),
      '--url',
      double.url,
      '--json',
      '--fast',
      '--mode',
      'transcribe',
      '--tail-ms',
      '200',
    ]);

    expect(code).toBe(0);
    const events = io
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; stats?: { frames: number } });
    expect(events[0]!.type).toBe('session.started');
    expect(events.at(-1)).toMatchObject({ type: 'session.ended', stats: { frames: 35 } });
    expect(events.filter((e) => e.type === 'prosody')).toHaveLength(3);
    expect(double.session.start).toMatchObject({
      mode: 'transcribe',
      audio: { codec: 'opus', sampleRateHz: 16000, channels: 1, frameMs: 20 },
    });
    expect(double.session.frames.map((f) => f.seq)).toEqual(
      Array.from({ length: 35 }, (_, i) => i),
    );
  });
});
