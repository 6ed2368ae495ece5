import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/log/logger.js';
import { createEmotionObserverFactory } from '../../src/emotion/track-emotion-observer.js';
import type { EmotionResult, StageContext } from '../../src/pipeline/stage-ports.js';
import type { SessionStartMessage } from '../../src/protocol/messages.js';
import { ProsodyTracker } from '../../src/prosody/prosody-tracker.js';
import { loadEmotionFixtures, newObserver, runUtterance } from './emotion-test-helpers.js';

const fixtures = loadEmotionFixtures();
const config = loadConfig({ env: {}, overrides: { 'log.level': 'silent' } });
const start = (extra: Partial<SessionStartMessage> = {}): SessionStartMessage => ({
  type: 'session.start',
  version: 1,
  mode: 'transcribe',
  audio: { codec: 'pcm16', sampleRateHz: 16000, channels: 2, frameMs: 20 },
  ...extra,
});
const ctx = (s: SessionStartMessage, cfg = config): StageContext => ({
  config: cfg,
  start: s,
  log: silentLogger,
});

describe('createEmotionObserverFactory', () => {
  it('returns no observer where emotion is off for the session, the channel or the server', () => {
    const factory = createEmotionObserverFactory(config, silentLogger);
    expect(factory(ctx(start()), { index: 0 })).toBeDefined();
    expect(factory(ctx(start({ emotion: { enabled: false } })), { index: 0 })).toBeUndefined();
    const perChannel = start({ emotion: { disabledChannels: [1] } });
    expect(factory(ctx(perChannel), { index: 0 })).toBeDefined();
    expect(factory(ctx(perChannel), { index: 1 })).toBeUndefined();
    const off = loadConfig({ env: {}, overrides: { 'emotion.enabled': false } });
    expect(
      createEmotionObserverFactory(off, silentLogger)(ctx(start(), off), { index: 0 }),
    ).toBeUndefined();
  });

  it('stops boot with UT_ERR_BAD_WEIGHTS on a malformed weights file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ut-emotion-'));
    const file = join(dir, 'w.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'undertone-emotion-weights',
        features: ['loudness'],
        labels: ['angry', 'neutral'],
      }),
    );
    const cfg = loadConfig({ env: {}, overrides: { 'emotion.weightsFile': file } });
    expect(() => createEmotionObserverFactory(cfg, silentLogger)).toThrow(
      expect.objectContaining({ code: 'UT_ERR_BAD_WEIGHTS' }),
    );
  });

  it('skips an absent text model folder and still emits finals', async () => {
    const cfg = loadConfig({
      env: {},
      overrides: { 'emotion.textModel': '/nonexistent/sentiment-model' },
    });
    const observer = createEmotionObserverFactory(cfg, silentLogger)(ctx(start(), cfg), {
      index: 0,
    })!;
    const results: EmotionResult[] = [];
    observer.results.subscribe((r) => results.push(r));
    const angry = fixtures.get('negative_angry')!;
    const tracker = new ProsodyTracker();
    observer.speechStarted('a1', 0);
    observer.prosody(tracker.push(angry.samples));
    observer.final('a1', angry.text, 0, tracker.positionMs);
    await (observer as unknown as { flushed(): Promise<void> }).flushed();
    const final = results.find((r) => r.type === 'emotion.final')!;
    expect(final.valence).toBeLessThan(0);
    expect(final.evidence.textModel).toBeUndefined();
  });
});

describe('TrackEmotion', () => {
  it('emits updates every updateIntervalMs of speech and a final with the segment id', () => {
    const calm = fixtures.get('neutral_calm')!;
    const results = runUtterance(
      newObserver({ updateIntervalMs: 500 }),
      calm.samples,
      calm.text,
      'seg-7',
    );
    const updates = results.filter((r) => r.type === 'emotion.update');
    const durationMs = (calm.samples.length / 16000) * 1000;
    expect(updates.length).toBeGreaterThanOrEqual(Math.floor(durationMs / 500) - 2);
    expect(updates.length).toBeLessThanOrEqual(Math.floor(durationMs / 500));
    expect(results.at(-1)!.type).toBe('emotion.final');
    expect(results.every((r) => r.segmentId === 'seg-7')).toBe(true);
  });

  it('is uncertain with little voice and no text yet', () => {
    const observer = newObserver({ updateIntervalMs: 100 });
    const results: EmotionResult[] = [];
    observer.results.subscribe((r) => results.push(r));
    const tracker = new ProsodyTracker();
    const happy = fixtures.get('positive_happy')!;
    observer.speechStarted('s1', 0);
    observer.prosody(tracker.push(happy.samples.subarray(0, 16000 * 0.6)));
    const first = results[0]!;
    expect(first.type).toBe('emotion.update');
    expect(first.uncertain).toBe(true);
    expect(first.tags[0]!.label).toBe('uncertain');
    expect(first.evidence.textValence).toBeNull();
  });

  it('judges a speaker against their own baseline after some utterances', () => {
    // A loud speaker: every line at +12 dB. The first reads as aroused; after a few the
    // same line is this speaker's normal voice.
    const calm = fixtures.get('neutral_calm')!;
    const loud = calm.samples.map((s) => Math.max(-1, Math.min(1, s * 4)));
    const observer = newObserver();
    const tracker = new ProsodyTracker();
    const arousal: number[] = [];
    for (let i = 0; i < 8; i++) {
      const final = runUtterance(observer, loud, calm.text, `s${i}`, tracker).find(
        (r) => r.type === 'emotion.final',
      )!;
      arousal.push(final.arousal);
    }
    expect(arousal[0]).toBeGreaterThan(0.3);
    expect(arousal.at(-1)!).toBeLessThan(arousal[0]! - 0.3);
  });

  it('emits nothing after close', () => {
    const observer = newObserver();
    const results: EmotionResult[] = [];
    observer.results.subscribe((r) => results.push(r));
    observer.close();
    observer.speechStarted('s1', 0);
    observer.final('s1', 'great', 0, 1000);
    expect(results).toHaveLength(0);
  });
});
