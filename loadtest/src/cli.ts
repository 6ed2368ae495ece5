/**
 * `npm run loadtest -- [options]`: simulated callers against an Undertone server on this machine.
 * Without `--url` it starts `undertone serve --models fixtures --port 0` itself, samples its CPU and
 * RSS from `/proc`, and stops it at the end. Writes `<out>/report.json` and `<out>/report.html`.
 *
 * Exit codes: 0 done, 1 the run failed (server did not start, no recordings), 2 bad usage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runChurn } from './churn.js';
import { runDisconnectStorm } from './disconnect-storm.js';
import { codecSetup, defaultRecordingsDir, loadSpeech, type CodecSetup } from './recordings.js';
import { findKnee, formatLevel, renderHtml, unobservedHistograms } from './report.js';
import { runLoadLevel, type LoadLevelReport } from './run-load.js';
import {
  projectRoot,
  spawnServer,
  type SampleSource,
  type SpawnedServer,
} from './server-process.js';
import { resolveTarget, TargetError, type Target } from './target.js';

export const LOADTEST_USAGE = `Usage: npm run loadtest -- [options]

Load (one level, or a sweep):
  --callers N          simulated callers (default 10)
  --duration S         seconds until the hard stop (default 30)
  --ramp S             seconds over which callers start (default min(10, duration/3))
  --sweep A,B,C        run each level in turn (e.g. 10,50,100,200) and chart them
  --mode M             agent | transcribe (default agent)
  --codec C            opus | pcm16 | mulaw (default pcm16)
  --recordings DIR     speech to say (default ../shared/audio/speech, else test/fixtures/speech)
  --interrupt-prob P   chance a reply is interrupted, 0..1 (default 0.2)
  --silence            stream silence only (the always-on path), no turns
  --prosody-ms N       prosody event interval asked of the server (default 0: off, lighter callers)
Lifecycle checks:
  --churn N            N connect/start/end cycles; reports RSS before and after
  --drop-storm N       N callers stream, then all drop at once; reports RSS and re-acceptance
Target and output:
  --url URL            a running server on loopback (ws://127.0.0.1:8080); default: spawn one
  --spawn-server       spawn \`undertone serve --models fixtures --port 0\` (the default without --url)
  --server-set K=V     a setting for the spawned server (repeatable)
  --out DIR            report folder (default artifacts/loadtest)
  --seed N             seed of the callers' random choices (default 1)
  --help               show this help`;

interface CliOptions {
  callers: number;
  durationS: number;
  rampS?: number;
  sweep?: number[];
  mode: 'agent' | 'transcribe';
  setup: CodecSetup;
  recordings?: string;
  interruptProb: number;
  silenceOnly: boolean;
  prosodyIntervalMs: number;
  churn?: number;
  dropStorm?: number;
  url?: string;
  spawn: boolean;
  serverSets: string[];
  out: string;
  seed: number;
}

/** Runs the load tester with `argv` (the words after the script); resolves to the exit code. */
export async function loadtestMain(argv: string[]): Promise<number> {
  const parsed = parseCli(argv);
  if (typeof parsed === 'number') return parsed;
  const o = parsed;

  let target: Target;
  let server: SpawnedServer | undefined;
  try {
    if (o.spawn) {
      const maxSessions = Math.max(
        500,
        (o.sweep ? Math.max(...o.sweep) : o.callers) + 50,
        (o.dropStorm ?? 0) + 50,
      );
      const sets = [`server.maxSessions=${maxSessions}`, ...o.serverSets];
      process.stdout.write('starting undertone serve --models fixtures --port 0 ...\n');
      server = await spawnServer({ args: sets.flatMap((s) => ['--set', s]) });
      target = server.target;
      process.stdout.write(`server pid ${server.pid} at ${target.wsUrl}\n`);
    } else {
      target = resolveTarget(o.url!);
    }
  } catch (err) {
    process.stderr.write(`loadtest: ${(err as Error).message}\n`);
    return err instanceof TargetError ? 2 : 1;
  }

  try {
    const speech = loadSpeech({
      dir: o.recordings ?? defaultRecordingsDir(projectRoot()),
      setup: o.setup,
    });
    process.stdout.write(
      `${speech.utterances.length} utterances loaded (${o.setup.codec} ${o.setup.sampleRateHz} Hz)\n`,
    );
    const sampleFrom: SampleSource = server ? { pid: server.pid } : { httpUrl: target.httpUrl };
    mkdirSync(o.out, { recursive: true });

    if (o.churn !== undefined) {
      const report = await runChurn({
        target,
        cycles: o.churn,
        setup: o.setup,
        speech,
        sampleFrom,
      });
      writeJson(o.out, { kind: 'churn', ...report });
      process.stdout.write(
        `churn: ${report.completed}/${report.cycles} cycles in ${report.wallS.toFixed(1)} s; RSS before ` +
          `${fmtMb(report.rssMb.before)}, warm ${fmtMb(report.rssMb.warm)}, after ${fmtMb(report.rssMb.after)} ` +
          `(${report.growthKbPerCycle?.toFixed(1) ?? '-'} KB/cycle after warm-up); sessions active after: ` +
          `${report.sessionsActiveAfter}; failures ${JSON.stringify(report.failures)}\n`,
      );
      return 0;
    }
    if (o.dropStorm !== undefined) {
      const report = await runDisconnectStorm({
        target,
        callers: o.dropStorm,
        setup: o.setup,
        speech,
        sampleFrom,
      });
      writeJson(o.out, { kind: 'disconnect-storm', ...report });
      process.stdout.write(
        `disconnect storm: ${report.connected}/${report.callers} connected; RSS baseline ${fmtMb(report.rssMb.baseline)}, ` +
          `loaded ${fmtMb(report.rssMb.loaded)}, released ${fmtMb(report.rssMb.released)}; sessions released in ` +
          `${report.releaseMs?.toFixed(0) ?? 'never'} ms; probes accepted ${report.probesAccepted}/${report.probeCallers}; ` +
          `failures ${JSON.stringify(report.failures)}\n`,
      );
      return 0;
    }

    const levels: LoadLevelReport[] = [];
    for (const callers of o.sweep ?? [o.callers]) {
      process.stdout.write(`\nlevel: ${callers} callers for ${o.durationS} s\n`);
      const level = await runLoadLevel({
        target,
        callers,
        durationS: o.durationS,
        rampS: o.rampS,
        mode: o.mode,
        setup: o.setup,
        speech,
        silenceOnly: o.silenceOnly,
        interruptProb: o.interruptProb,
        prosodyIntervalMs: o.prosodyIntervalMs,
        sampleFrom,
        seed: o.seed,
        onProgress: ({ elapsedS, active, metrics }) => {
          if (Math.round(elapsedS) % 5 !== 0) return;
          const c = metrics.counters;
          process.stdout.write(
            `  ${elapsedS.toFixed(0)} s: ${active} active, ${c.turns} turns, ${c.framesSent} frames\n`,
          );
        },
      });
      levels.push(level);
      process.stdout.write(`${formatLevel(level)}\n`);
      const missing = unobservedHistograms(level);
      if (missing.length > 0)
        process.stdout.write(`server histograms never observed: ${missing.join(', ')}\n`);
    }
    const knee = levels.length > 1 ? findKnee(levels) : null;
    if (knee)
      process.stdout.write(
        `\nknee (${knee.metric}): ${knee.kneeCallers ?? 'none'}; last good ${knee.lastGoodCallers ?? 'none'}; ${knee.reason}\n`,
      );
    writeJson(o.out, {
      kind: 'load',
      target: target.wsUrl,
      spawned: server !== undefined,
      knee,
      levels,
    });
    writeFileSync(join(o.out, 'report.html'), renderHtml(levels, knee));
    process.stdout.write(`reports: ${join(o.out, 'report.json')}, ${join(o.out, 'report.html')}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`loadtest: ${(err as Error).message}\n`);
    return 1;
  } finally {
    if (server) await server.stop();
  }
}

function writeJson(out: string, report: unknown): void {
  writeFileSync(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
}

const fmtMb = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} MB`);

/** Parses and checks the command line; a number is an exit code after printing why. */
export function parseCli(argv: string[]): CliOptions | number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        callers: { type: 'string', default: '10' },
        duration: { type: 'string', default: '30' },
        ramp: { type: 'string' },
        sweep: { type: 'string' },
        mode: { type: 'string', default: 'agent' },
        codec: { type: 'string', default: 'pcm16' },
        recordings: { type: 'string' },
        'interrupt-prob': { type: 'string', default: '0.2' },
        silence: { type: 'boolean', default: false },
        'prosody-ms': { type: 'string', default: '0' },
        churn: { type: 'string' },
        'drop-storm': { type: 'string' },
        url: { type: 'string' },
        'spawn-server': { type: 'boolean', default: false },
        'server-set': { type: 'string', multiple: true },
        out: { type: 'string', default: join('artifacts', 'loadtest') },
        seed: { type: 'string', default: '1' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    return usageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${LOADTEST_USAGE}\n`);
    return 0;
  }

  const int = (
    name: string,
    text: string | undefined,
    min: number,
    max: number,
  ): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${name} ${text}: expected an integer ${min}..${max}`);
    return n;
  };
  try {
    if (values.mode !== 'agent' && values.mode !== 'transcribe')
      throw new Error(`--mode ${values.mode}: expected agent or transcribe`);
    if (!['opus', 'pcm16', 'mulaw'].includes(values.codec))
      throw new Error(`--codec ${values.codec}: expected opus, pcm16 or mulaw`);
    const interruptProb = Number(values['interrupt-prob']);
    if (!(interruptProb >= 0 && interruptProb <= 1))
      throw new Error('--interrupt-prob: expected a number 0..1');
    const ramp = values.ramp === undefined ? undefined : Number(values.ramp);
    if (ramp !== undefined && !(ramp >= 0 && ramp <= 3600))
      throw new Error('--ramp: expected seconds 0..3600');
    const sweep = values.sweep?.split(',').map((s, i) => int(`sweep[${i}]`, s.trim(), 1, 5000)!);
    if (values.url !== undefined && !values['spawn-server']) resolveTarget(values.url);
    return {
      callers: int('callers', values.callers, 1, 5000)!,
      durationS: int('duration', values.duration, 1, 24 * 3600)!,
      rampS: ramp,
      sweep: sweep?.sort((a, b) => a - b),
      mode: values.mode,
      setup: codecSetup(values.codec as CodecSetup['codec']),
      recordings: values.recordings,
      interruptProb,
      silenceOnly: values.silence,
      prosodyIntervalMs: int('prosody-ms', values['prosody-ms'], 0, 10_000)!,
      churn: int('churn', values.churn, 1, 1_000_000),
      dropStorm: int('drop-storm', values['drop-storm'], 1, 5000),
      url: values.url,
      spawn: values['spawn-server'] || values.url === undefined,
      serverSets: values['server-set'] ?? [],
      out: resolve(values.out),
      seed: int('seed', values.seed, 0, 2 ** 31)!,
    };
  } catch (err) {
    return usageError((err as Error).message);
  }
}

function usageError(message: string): number {
  process.stderr.write(`loadtest: ${message}\n\n${LOADTEST_USAGE}\n`);
  return 2;
}
