/**
 * The `undertone` command: dispatches to one module per subcommand, each loaded only when used so
 * that `--help` and `models` stay fast. Exit codes: 0 done, 1 failed, 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isUndertoneError } from '../errors/undertone-error.js';
import { projectRoot } from '../models/project-root.js';

export const USAGE = `Usage: undertone <command> [options]

Commands:
  serve     run the voice server (WebSocket, HTTP health, metrics, demo page)
  models    list, pull or generate models (undertone models --help)
  talk      talk to a server from the terminal or a WAV file
  emotion   emotion tools (fit fusion weights)
  bench     run the benchmarks

Options:
  --help       show this help
  --version    print the version

Run \`undertone <command> --help\` for the options of a command.`;

type Command = (argv: string[]) => Promise<number>;

/** Commands by name. Modules written later are loaded by a path in a variable. */
const COMMANDS: Record<string, () => Promise<Command | undefined>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  models: async () => (await import('./models-command.js')).modelsCommand,
  bench: async () => (await import('./bench-command.js')).benchCommand,
  talk: async () => (await import('./talk.js')).talkCommand,
  emotion: () => optionalCommand('./emotion-command.js', 'emotionCommand'),
};

/** Runs the command line (`argv` without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;

  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }

  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`undertone: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }

  try {
    const command = await load();
    if (!command) {
      process.stderr.write(`undertone: the ${name} command is not part of this build\n`);
      return 1;
    }
    return await command(rest);
  } catch (err) {
    // Commands report their own errors; this is the last line before a stack trace.
    if (isUndertoneError(err)) {
      process.stderr.write(`undertone ${name}: ${err.code}: ${err.message}\n`);
      return 1;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`undertone ${name}: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

/** The package version. */
export function version(): string {
  try {
    return (
      JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

async function optionalCommand(
  specifier: string,
  exportName: string,
): Promise<Command | undefined> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    // Only the command's own module missing means "not in this build"; a broken import inside it
    // is a real error.
    const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    if (missing && String((err as Error).message).includes(specifier.slice(2))) return undefined;
    throw err;
  }
  const command = mod[exportName];
  return typeof command === 'function' ? (command as Command) : undefined;
}
