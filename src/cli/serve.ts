/**
 * `undertone serve`: loads the configuration, starts the server, loads the engines (the server
 * answers `/readyz` 503 meanwhile), and shuts down gracefully on SIGINT or SIGTERM: sessions end
 * with `session.ended`, sockets close, engines are released.
 *
 * Exit codes: 0 after a signal, 1 when boot fails (a missing model, a port in use), 2 for a bad
 * command line or configuration. Errors print one line, never a stack trace.
 */
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load-config.js';
import type { UndertoneConfig } from '../config/schema.js';
import { isUndertoneError } from '../errors/undertone-error.js';
import { createLogger } from '../log/logger.js';
import type { CreateSession, Engines } from '../pipeline/types.js';
import { startServer, type RunningServer } from '../gateway/server.js';
import {
  closeEngines,
  createEngines,
  needsAgentEngines,
  resolveEngineModels,
  type EngineModels,
} from '../runtime/create-engines.js';
import { Readiness } from '../runtime/readiness.js';
import { createProgressBar } from '../models/progress-bar.js';
import { pullMissingModels } from '../models/pull-missing.js';
import type { ModelKind } from '../models/resolve-model.js';

export const SERVE_USAGE = `Usage: undertone serve [options]

Options:
  --port N              port to listen on; 0 picks a free one (default 8080)
  --host H              address to bind (default 127.0.0.1)
  --config FILE         JSON configuration file
  --mode M              agent | transcribe (transcribe loads no LLM or TTS)
  --models SOURCE       default | fixtures | PATH (a folder laid out like models/cache)
  --log-level L         fatal | error | warn | info | debug | trace | silent
  --set PATH=VALUE      any setting, e.g. --set server.maxSessions=50 (repeatable)
  --help                show this help

Settings also come from UNDERTONE_* environment variables (UNDERTONE_SERVER_PORT=9000).`;

export interface ServeOptions {
  /** Resolves to stop the server; default: the first SIGINT or SIGTERM. */
  stop?: Promise<unknown>;
  /** Called once the server listens and the engines are loaded. */
  onReady?: (server: RunningServer) => void;
  /** Environment for `UNDERTONE_*` settings; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Sessions; default the pipeline's `createSession`. */
  createSession?: CreateSession;
}

/** Runs `undertone serve` with `argv` the words after `serve`; resolves to the exit code. */
export async function serveCommand(argv: string[], options: ServeOptions = {}): Promise<number> {
  const parsed = parseServeArgs(argv);
  if ('exitCode' in parsed) return parsed.exitCode;

  let config: UndertoneConfig;
  try {
    config = loadConfig({
      file: parsed.file,
      env: options.env,
      overrides: parsed.overrides,
      overrideOrigins: parsed.overrideOrigins,
    });
  } catch (err) {
    return fail(err, 2);
  }

  const log = createLogger({ level: config.log.level });
  let models: EngineModels;
  try {
    if (config.models.autoPull) {
      const kinds: ModelKind[] = needsAgentEngines(config) ? ['asr', 'llm', 'tts'] : ['asr'];
      const pulled = await pullMissingModels(config, kinds, createProgressBar(process.stderr));
      if (pulled.length > 0) log.info({ models: pulled }, 'models downloaded');
    }
    models = await resolveEngineModels(config);
  } catch (err) {
    return fail(err, 1);
  }

  const readiness = new Readiness();
  const enginesLoading = createEngines(config, log, readiness.report, models);
  // Boot failures surface below; this keeps an early rejection from counting as unhandled.
  enginesLoading.catch(() => {});

  const createSession =
    options.createSession ?? (await import('../pipeline/session.js')).createSession;
  let server: RunningServer;
  try {
    server = await startServer({ config, engines: enginesLoading, createSession, log, readiness });
  } catch (err) {
    await enginesLoading.then((engines) => closeEngines(engines, log)).catch(() => {});
    return fail(err, 1);
  }
  process.stdout.write(`undertone listening on ${server.url} (voice: ${server.wsUrl})\n`);

  const stop = options.stop ?? signalled(log);
  let engines: Engines;
  try {
    engines = (await Promise.race([enginesLoading, stop.then(() => undefined)])) as Engines;
  } catch (err) {
    await server.close();
    return fail(err, 1);
  }
  if (engines === undefined) {
    // Stopped while loading: wait for the load to settle so its native resources are released.
    await server.close();
    await enginesLoading.then((loaded) => closeEngines(loaded, log)).catch(() => {});
    return 0;
  }

  options.onReady?.(server);
  await stop;
  log.info({ sessions: server.sessionCount() }, 'shutting down');
  await server.close();
  await closeEngines(engines, log);
  log.flush?.();
  return 0;
}

type ParsedServeArgs =
  | { file?: string; overrides: Record<string, string>; overrideOrigins: Record<string, string> }
  | { exitCode: number };

/** Turns the command line into config sources, or an exit code after printing why. */
export function parseServeArgs(argv: string[]): ParsedServeArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        config: { type: 'string' },
        mode: { type: 'string' },
        models: { type: 'string' },
        'log-level': { type: 'string' },
        set: { type: 'string', multiple: true },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    process.stderr.write(`undertone serve: ${(err as Error).message}\n\n${SERVE_USAGE}\n`);
    return { exitCode: 2 };
  }
  if (values.help) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return { exitCode: 0 };
  }

  const overrides: Record<string, string> = {};
  for (const pair of values.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      process.stderr.write(`undertone serve: --set ${pair}: expected PATH=VALUE\n`);
      return { exitCode: 2 };
    }
    overrides[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  // Named flags win over --set for the same setting.
  const named: Array<[string | undefined, string]> = [
    [values.port, 'server.port'],
    [values.host, 'server.host'],
    [values.mode, 'session.mode'],
    [values.models, 'models.source'],
    [values['log-level'], 'log.level'],
  ];
  const overrideOrigins: Record<string, string> = {};
  for (const key of Object.keys(overrides)) overrideOrigins[key] = `--set ${key}`;
  const flagOf: Record<string, string> = {
    'server.port': '--port',
    'server.host': '--host',
    'session.mode': '--mode',
    'models.source': '--models',
    'log.level': '--log-level',
  };
  for (const [value, path] of named) {
    if (value === undefined) continue;
    overrides[path] = value;
    overrideOrigins[path] = flagOf[path]!;
  }

  return { file: values.config, overrides, overrideOrigins };
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
function signalled(log: Logger): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const again = (): never => process.exit(1);
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      log.info({ signal }, 'signal received');
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Prints one line for a boot failure and returns the exit code. */
function fail(err: unknown, exitCode: number): number {
  if (isUndertoneError(err)) {
    process.stderr.write(`undertone serve: ${err.code}: ${err.message}\n`);
  } else if ((err as { code?: string }).code === 'EADDRINUSE') {
    process.stderr.write(`undertone serve: the address is in use (${(err as Error).message})\n`);
  } else {
    process.stderr.write(`undertone serve: ${(err as Error)?.message ?? String(err)}\n`);
  }
  return exitCode;
}
