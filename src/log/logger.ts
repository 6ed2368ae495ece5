/**
 * One pino root logger per process. Sessions take `child({ sessionId })`, stages
 * `child({ stage: 'asr' })`. Transcripts and prompts are only ever logged under `pii.*` keys, which
 * `redactPii` removes.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Drop `pii.*` fields (transcripts, prompts, reply text) from every line. */
  redactPii?: boolean;
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'undertone' },
      redact: options.redactPii ? { paths: ['pii'], remove: true } : undefined,
    },
    options.destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
