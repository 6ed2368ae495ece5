/**
 * The load tester's own parts, without a server: loopback-only targets, percentiles, utterance
 * splitting and encoding, the command line, the knee and the HTML report.
 */
import { describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { parseCli } from '../src/cli.js';
import {
  codecSetup,
  encodeFrames,
  loadSpeech,
  muLawEncode,
  speechOnsetFrame,
  splitAtPauses,
} from '../src/recordings.js';
import { findKnee, levelWarnings, renderHtml } from '../src/report.js';
import type { LoadLevelReport } from '../src/run-load.js';
import { RunMetrics } from '../src/run-metrics.js';
import { parsePrometheus, readProc } from '../src/server-process.js';
import { percentile, Series, Tally } from '../src/stats.js';
import { resolveTarget, TargetError } from '../src/target.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'speech');

describe('target', () => {
  it.each(['ws://127.0.0.1:8080', 'ws://localhost:9', 'ws://[::1]:8080/v1/stream'])(
    'accepts loopback %s',
    (url) => {
      expect(resolveTarget(url).wsUrl).toMatch(/\/v1\/stream$/);
    },
  );

  it.each(['ws://10.0.0.1:8080', 'ws://example.com', 'wss://127.0.0.1:1', 'not a url'])(
    'refuses %s',
    (url) => {
      expect(() => resolveTarget(url)).toThrow(TargetError);
    },
  );

  it('derives the HTTP base for /metrics', () => {
    expect(resolveTarget('ws://127.0.0.1:8080')).toEqual({
      wsUrl: 'ws://127.0.0.1:8080/v1/stream',
      httpUrl: 'http://127.0.0.1:8080',
    });
  });
});

describe('stats', () => {
  it('takes nearest-rank percentiles', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile([], 0.5)).toBeNull();
  });

  it('keeps exact counts and max beyond the reservoir', () => {
    const s = new Series(10);
    for (let i = 0; i < 1000; i++) s.add(i);
    s.add(Number.NaN);
    expect(s.summary()).toMatchObject({ count: 1000, max: 999, mean: 499.5 });
  });

  it('tallies and sorts by count', () => {
    const t = new Tally();
    t.add('a');
    t.add('b', 3);
    expect(t.toJSON()).toEqual({ b: 3, a: 1 });
    expect(t.total).toBe(4);
  });
});

describe('recordings', () => {
  it('splits at pauses and trims silence', () => {
    const rate = 16000;
    const tone = (ms: number): Float32Array =>
      Float32Array.from(
        { length: (rate * ms) / 1000 },
        (_, i) => 0.3 * Math.sin((2 * Math.PI * 200 * i) / rate),
      );
    const gap = (ms: number): Float32Array => new Float32Array((rate * ms) / 1000);
    const pcm = Float32Array.from([
      ...gap(300),
      ...tone(1000),
      ...gap(800),
      ...tone(600),
      ...gap(200),
      ...tone(400),
      ...gap(300),
    ]);
    const clips = splitAtPauses(pcm, rate);
    expect(clips.map((c) => Math.round((c.length / rate) * 1000))).toEqual([1000, 1200]);
  });

  it('finds where speech starts after a quiet lead-in, and none in a hum', () => {
    const rate = 16000;
    const tone = (ms: number, amp: number): number[] =>
      Array.from(
        { length: (rate * ms) / 1000 },
        (_, i) => amp * Math.sin((2 * Math.PI * 200 * i) / rate),
      );
    // 300 ms at -46 dBFS (room tone, breath), 60 ms of click, then speech-level tone.
    const pcm = Float32Array.from([
      ...tone(300, 0.007),
      ...tone(60, 0.3),
      ...tone(300, 0.007),
      ...tone(600, 0.3),
    ]);
    expect(speechOnsetFrame(pcm, rate)).toBe(33);
    expect(speechOnsetFrame(Float32Array.from(tone(600, 0.007)), rate)).toBeNull();
    const set = loadSpeech({ dir: FIXTURES, setup: codecSetup('mulaw') });
    expect(set.utterances[0]!.speechOnsetFrame).not.toBeNull();
  });

  it('encodes 20 ms frames of each codec', () => {
    const pcm = new Float32Array(16000 * 0.1);
    expect(encodeFrames(pcm, codecSetup('pcm16')).map((f) => f.byteLength)).toEqual([
      640, 640, 640, 640, 640,
    ]);
    const mulaw = encodeFrames(new Float32Array(800), codecSetup('mulaw'));
    expect(mulaw.map((f) => f.byteLength)).toEqual([160, 160, 160, 160, 160]);
    const opus = encodeFrames(new Float32Array(4800), codecSetup('opus'));
    expect(opus).toHaveLength(5);
    expect(opus[0]!.byteLength).toBeGreaterThan(0);
  });

  it('encodes G.711 mu-law like the reference table', () => {
    expect([...muLawEncode(Int16Array.from([0, -1, 32767, -32768, 1000]))]).toEqual([
      0xff, 0x7f, 0x80, 0x00, 0xce,
    ]);
  });

  it('loads the committed speech fixture as utterances', () => {
    const set = loadSpeech({ dir: FIXTURES, setup: codecSetup('pcm16') });
    expect(set.utterances.length).toBeGreaterThan(0);
    expect(set.utterances[0]!.durationMs).toBeGreaterThan(1000);
    expect(set.silence.byteLength).toBe(640);
  });

  it('says which folder is missing', () => {
    expect(() => loadSpeech({ dir: '/nonexistent-dir', setup: codecSetup('pcm16') })).toThrow(
      '/nonexistent-dir',
    );
  });
});

describe('command line', () => {
  const quiet = (): void => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  };

  it('reads the documented options', () => {
    const o = parseCli([
      '--callers',
      '50',
      '--duration',
      '60',
      '--url',
      'ws://127.0.0.1:8080',
      '--codec',
      'opus',
      '--interrupt-prob',
      '0.3',
    ]);
    expect(o).toMatchObject({
      callers: 50,
      durationS: 60,
      spawn: false,
      interruptProb: 0.3,
      setup: { codec: 'opus', sampleRateHz: 48000 },
    });
    expect(parseCli(['--sweep', '200,10,50'])).toMatchObject({ sweep: [10, 50, 200], spawn: true });
  });

  it.each([
    [['--url', 'ws://192.168.1.2:8080']],
    [['--codec', 'g729']],
    [['--callers', '0']],
    [['--interrupt-prob', '2']],
    [['--bogus']],
  ])('exits 2 for %j', (argv) => {
    quiet();
    expect(parseCli(argv)).toBe(2);
    vi.restoreAllMocks();
  });
});

describe('server readings', () => {
  it('reads CPU and RSS of a live process from /proc', () => {
    const reading = readProc(process.pid);
    expect(reading.rssMb).toBeGreaterThan(10);
    expect(reading.cpuS).toBeGreaterThan(0);
    expect(readProc(2 ** 30)).toEqual({ cpuS: null, rssMb: null });
  });

  it('parses Prometheus text', () => {
    const values = parsePrometheus(
      '# HELP x\nprocess_resident_memory_bytes 1048576\nundertone_sessions_active{mode="agent"} 3\n',
    );
    expect(values.get('process_resident_memory_bytes')).toBe(1048576);
    expect(values.get('undertone_sessions_active{mode="agent"}')).toBe(3);
  });
});

function level(callers: number, p90: number, late = 0): LoadLevelReport {
  const metrics = new RunMetrics();
  for (let i = 0; i < 20; i++) metrics.add('firstAudioMs', p90 * (i < 18 ? 0.5 : 1));
  metrics.count('framesSent', 1000);
  metrics.count('framesLate', late);
  metrics.count('sessionsStarted', callers);
  return {
    callers,
    durationS: 10,
    rampS: 2,
    mode: 'agent',
    codec: 'pcm16',
    silenceOnly: false,
    metrics: metrics.snapshot(),
    server: {
      samples: [],
      cpuPercent: { mean: 50, max: 90 },
      rssMb: { start: 100, max: 200, end: 150 },
    },
    serverHistograms: {},
    serverEventLoopLagMs: null,
    release: { releaseMs: 0, sessionsActive: 0, rssMb: 100 },
    loadGeneratorCpuPercent: 30,
    wallS: 10,
  };
}

describe('report', () => {
  it('finds the knee where p90 doubles', () => {
    const knee = findKnee([level(10, 400), level(50, 500), level(100, 1200), level(200, 3000)]);
    expect(knee).toMatchObject({ metric: 'firstAudioMs', kneeCallers: 100, lastGoodCallers: 50 });
  });

  it('warns about late frames instead of blaming the server', () => {
    const late = level(50, 420, 20);
    expect(findKnee([level(10, 400), late])).toMatchObject({
      kneeCallers: null,
      lastGoodCallers: 50,
    });
    expect(levelWarnings(late).join()).toContain('2.0% of frames late');
    expect(levelWarnings(level(10, 400))).toEqual([]);
  });

  it('renders a self-contained HTML chart', () => {
    const levels = [level(10, 400), level(50, 500), level(100, 1200)];
    const html = renderHtml(levels, findKnee(levels));
    expect(html).toContain('<svg');
    expect(html).toContain('polyline');
    expect(html).toContain('Knee at 100 callers');
    expect(html).not.toMatch(/(src|href)=["']https?:/);
  });
});
