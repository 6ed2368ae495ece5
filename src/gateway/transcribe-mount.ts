/**
 * Mounts `POST /v1/transcribe` (`routes/transcribe-route.ts`, the ASR stage's batch route) on
 * the HTTP server. Its decodes queue on the same process-wide ASR scheduler as the sessions', so
 * batch requests and live calls share one model and one queue bound.
 */
import type { Logger } from 'pino';
import type { UndertoneConfig } from '../config/schema.js';
import type { Engines } from '../pipeline/types.js';
import type { StageContext } from '../pipeline/stage-ports.js';
import { sharedAsrScheduler } from '../pipeline/stage-factories.js';
import type { RequestHandler } from './http-routes.js';
import { transcribeHttpHandler } from './routes/transcribe-route.js';

export interface TranscribeMountDeps {
  config: UndertoneConfig;
  log: Logger;
  /** The engines, or undefined while they load (the route answers 503 then). */
  engines(): Engines | undefined;
}

/** The `(req, res, body)` handler of the route. */
export function transcribeRoute(deps: TranscribeMountDeps): RequestHandler {
  const log = deps.log.child({ route: 'transcribe' });
  // The scheduler reads only `config` and `log` of a stage context; no session start exists here.
  const ctx = { config: deps.config, log } as StageContext;
  const language = deps.config.asr.language === 'auto' ? undefined : deps.config.asr.language;

  return (req, res, body) => {
    const engines = deps.engines();
    return transcribeHttpHandler(req, res, body, {
      scheduler: () => (engines ? sharedAsrScheduler(engines.asr, ctx) : undefined),
      vad: engines?.vad,
      language,
      log,
    });
  };
}
