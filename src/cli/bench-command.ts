/**
 * `undertone bench [--only a,b] [--quick] [--out FILE]`: runs the benchmarks under `bench/` one by
 * one, prints each one's numbers and writes them all to a JSON report (default
 * `artifacts/bench.json`). Benchmarks measure; they assert nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

type BenchResult = Record<string, number | string>;
interface BenchEntry {
  name: string;
  describe: string;
  run: (opts: { quick: boolean }) => Promise<BenchResult>;
}

// Each benchmark lives in its own module; imported lazily so one that fails to load is reported
// and the others still run.
const BENCHES: BenchEntry[] = [
  {
    name: 'audio',
    describe: 'decode + resample + prosody, CPU per stream-second',
    run: async () => (await import('../../bench/audio-path.js')).benchAudioPath(),
  },
  {
    name: 'vad',
    describe: 'Silero VAD, CPU per stream-second, batched vs unbatched, paced and unpaced',
    run: async () => (await import('../../bench/vad.js')).benchVad(),
  },
  {
    name: 'always-on',
    describe: 'the whole always-on path (decode, resample, VAD, prosody), paced',
    run: async (o) => (await import('../../bench/always-on.js')).benchAlwaysOn(o),
  },
  {
    name: 'asr',
    describe: 'Whisper (tiny dims, random weights): real-time factor and speech-end-to-final',
    run: async (o) => (await import('../../bench/asr.js')).benchAsr(o),
  },
  {
    name: 'llm-tts',
    describe: 'LLM first token and tokens/s, TTS first chunk and real-time factor',
    run: async () => (await import('../../bench/llm-tts.js')).benchLlmTts(),
  },
  {
    name: 'emotion',
    describe: 'emotion fusion CPU per stream-second',
    run: async () => (await import('../../bench/emotion.js')).benchEmotion(),
  },
  {
    name: 'turn',
    describe: 'voice-to-voice latency by stage at 1, 8 and 32 sessions; server overhead',
    run: async (o) => (await import('../../bench/turn.js')).benchTurn(o),
  },
];

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      out: { type: 'string', default: 'artifacts/bench.json' },
      list: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });

  if (values.list) {
    for (const b of BENCHES) console.log(`${b.name.padEnd(10)} ${b.describe}`);
    return 0;
  }

  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !BENCHES.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0) {
    console.error(`undertone bench: unknown benchmark ${unknown.join(', ')} (see --list)`);
    return 2;
  }

  const report: Record<string, BenchResult | { error: string }> = {};
  let failed = 0;
  for (const bench of BENCHES.filter((b) => !only || only.includes(b.name))) {
    console.log(`\n== ${bench.name}: ${bench.describe}`);
    try {
      const result = await bench.run({ quick: values.quick });
      report[bench.name] = result;
      for (const [key, value] of Object.entries(result)) {
        const shown = typeof value === 'number' ? formatNumber(value) : value;
        console.log(`  ${key.padEnd(52)} ${shown}`);
      }
    } catch (err) {
      failed++;
      report[bench.name] = { error: (err as Error).message };
      console.log(`  failed: ${(err as Error).message}`);
    }
  }

  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify({ date: new Date().toISOString(), report }, null, 2));
  console.log(`\nreport written to ${values.out}`);
  return failed > 0 ? 1 : 0;
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(3);
}
