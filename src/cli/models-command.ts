/**
 * `undertone models list | pull [ID...] | fixtures [DIR] [--dims]`: shows the manifest's models
 * and whether each is on disk, downloads them from the Hugging Face hub (resumable, with a
 * progress bar on stderr), or generates the offline fixture models.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import type { UndertoneConfig } from '../config/schema.js';
import { isUndertoneError } from '../errors/undertone-error.js';
import { ensureFixtures, FIXTURES } from '../models/fixtures/index.js';
import { listModels } from '../models/list-models.js';
import { loadManifest } from '../models/manifest.js';
import { createProgressBar } from '../models/progress-bar.js';
import { pullModel } from '../models/pull-model.js';

/** Where the command writes its result lines (stdout by default); errors go to stderr. */
export type CommandLog = (line: string) => void;

const USAGE = `usage:
  undertone models list [--config FILE] [--dir DIR]
  undertone models pull [ID...] [--dir DIR] [--endpoint URL] [--config FILE]
      (no ID: the default ASR, LLM and TTS models)
  undertone models fixtures [DIR] [--dims]
      (generates the offline test models; --dims adds whisper-tiny-dims-random, ~220 MB)`;

const stdoutLog: CommandLog = (line) => process.stdout.write(`${line}\n`);

function configFrom(values: { config?: string; dir?: string }): UndertoneConfig {
  return loadConfig({
    file: values.config,
    overrides: values.dir ? { 'models.dir': values.dir } : {},
  });
}

async function list(args: string[], log: CommandLog): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, dir: { type: 'string' } },
  });
  const rows = await listModels(configFrom(values));
  const widths = [28, 5, 9, 9];
  const cell = (text: string, i: number) => text.padEnd(widths[i]!);
  log(`${cell('ID', 0)} ${cell('KIND', 1)} ${cell('ORIGIN', 2)} ${cell('STATUS', 3)} DETAILS`);
  for (const r of rows) {
    const status = r.present ? 'present' : 'missing';
    const details = [
      r.isDefault ? 'default' : '',
      r.repo ?? '',
      r.license ? `license ${r.license}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    log(
      `${cell(r.id, 0)} ${cell(r.purpose, 1)} ${cell(r.origin, 2)} ${cell(status, 3)} ${details}`,
    );
  }
  return 0;
}

async function pull(args: string[], log: CommandLog): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string' }, dir: { type: 'string' }, endpoint: { type: 'string' } },
  });
  const cfg = configFrom(values);
  const manifest = loadManifest();
  const ids =
    positionals.length > 0
      ? positionals
      : [manifest.defaults.asr, manifest.defaults.llm, manifest.defaults.tts];
  const onProgress = createProgressBar(process.stderr);
  for (const id of ids) {
    const folder = await pullModel(id, {
      dir: cfg.models.dir,
      fixturesDir: cfg.models.fixturesDir,
      baseUrl: values.endpoint,
      onProgress,
    });
    log(`${id}: ${folder}`);
  }
  return 0;
}

async function fixtures(args: string[], log: CommandLog): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { dims: { type: 'boolean', default: false } },
  });
  const ids = FIXTURES.filter((f) => f.byDefault || values.dims).map((f) => f.id);
  const folders = await ensureFixtures(positionals[0] ?? 'models/fixtures', ids);
  for (const [id, folder] of Object.entries(folders)) log(`${id}: ${folder}`);
  return 0;
}

/**
 * Runs `undertone models <sub> ...` with `argv` the words after `models`. Returns the exit code:
 * 0 done, 1 failed (a coded error is printed to stderr), 2 bad usage.
 */
export async function modelsCommand(argv: string[], log: CommandLog = stdoutLog): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'list':
        return await list(rest, log);
      case 'pull':
        return await pull(rest, log);
      case 'fixtures':
        return await fixtures(rest, log);
      default:
        process.stderr.write(`${USAGE}\n`);
        return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
    }
  } catch (err) {
    if (isUndertoneError(err)) {
      process.stderr.write(`undertone models ${sub}: ${err.code}: ${err.message}\n`);
      return 1;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`undertone models ${sub}: ${(err as Error).message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
}
