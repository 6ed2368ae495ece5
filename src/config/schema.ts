/**
 * The configuration schema: every setting, its default and its limits, in one place.
 * `load-config.ts` merges defaults, a JSON file, `UNDERTONE_*` environment variables and CLI
 * flags, validates the result against this schema and freezes it.
 */
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().positive();
const unit = z.number().min(0).max(1);
const remote = z
  .object({
    /** Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 */
    url: z.string().url().optional(),
    apiKey: z.string().optional(),
    /** Model name sent in requests. */
    model: z.string().optional(),
  })
  .prefault({});

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        /** 0 picks a free port; the chosen address is logged. */
        port: port.default(8080),
        /** WebSocket transport: `ws` (default) or `uws` where uWebSockets.js is installed. */
        transport: z.enum(['ws', 'uws']).default('ws'),
        /** API keys accepted in the `x-api-key` / `Authorization: Bearer` header or first message. */
        apiKeys: z.array(z.string().min(8)).default([]),
        /** When false, no key is asked for (local use). True requires `apiKeys` to be non-empty. */
        authRequired: z.boolean().default(false),
        maxSessions: positiveInt.default(500),
        /** Longest a session may run, in seconds. */
        maxSessionDurationS: positiveInt.default(4 * 3600),
        /** Largest binary or text frame accepted, in bytes. */
        maxFrameBytes: positiveInt.default(64 * 1024),
        /** Largest HTTP request body (e.g. `POST /v1/transcribe`), in bytes. */
        maxBodyBytes: positiveInt.default(32 * 1024 * 1024),
        /** Frames queued per session before new ones are dropped with an error. */
        maxQueuedFrames: positiveInt.default(200),
        /** How long a dropped session waits for its client to resume, in ms. 0 disables resume. */
        resumeGraceMs: z.number().int().min(0).default(30_000),
        /** Interval of WebSocket pings, in ms. */
        pingIntervalMs: positiveInt.default(15_000),
        /** Serve the demo page at `/`. */
        demoPage: z.boolean().default(true),
      })
      .prefault({}),
    session: z
      .object({
        /** Mode for sessions whose start message does not name one, and for `--mode`. */
        mode: z.enum(['agent', 'transcribe']).default('agent'),
        /** Default interval of `prosody` events, in ms; 0 turns them off. */
        prosodyIntervalMs: z.number().int().min(0).max(10_000).default(100),
        /** Folder for per-session JSONL transcript sinks (transcribe mode); unset = none. */
        transcriptSinkDir: z.string().optional(),
      })
      .prefault({}),
    models: z
      .object({
        /**
         * Which weights to run: `default` (the manifest's real models, pulled into `dir`),
         * `fixtures` (the project's generated tiny models) or a folder path laid out like `dir`.
         */
        source: z.string().min(1).default('default'),
        /** Cache of downloaded weights. */
        dir: z.string().min(1).default('models/cache'),
        /** Where the generated fixture models are written. */
        fixturesDir: z.string().min(1).default('models/fixtures'),
        /** Inference device for local ONNX engines. `cuda` needs onnxruntime-node's CUDA provider. */
        device: z.enum(['cpu', 'cuda']).default('cpu'),
        /**
         * With `source = default`, download missing models at start-up (progress on stderr).
         * Offline this fails within seconds and points to `--models fixtures`.
         */
        autoPull: z.boolean().default(true),
        /** Base URL of the model hub (a mirror, or a local test server); default the manifest's. */
        hubUrl: z.string().url().optional(),
        /** Intra-op threads per ONNX session (1 avoids spin-waiting thread pools). */
        threads: positiveInt.default(1),
      })
      .prefault({}),
    vad: z
      .object({
        model: z.enum(['silero-v5', 'silero-v6']).default('silero-v5'),
        /** Speech probability that starts speech. */
        activationThreshold: unit.default(0.5),
        /** Probability below which speech counts as silence. */
        deactivationThreshold: unit.default(0.35),
        /** Shortest speech kept as a segment, in ms. */
        minSpeechMs: z.number().int().min(0).default(250),
        /** Silence that ends a segment, in ms. */
        minSilenceMs: z.number().int().min(0).default(550),
        /** Audio kept before the detected start so the first syllable survives, in ms. */
        preSpeechPadMs: z.number().int().min(0).max(2000).default(300),
        /** Batch windows from many sessions into one inference. */
        batch: z.boolean().default(true),
        maxBatch: positiveInt.default(64),
      })
      .prefault({}),
    asr: z
      .object({
        engine: z.enum(['local', 'remote']).default('local'),
        /** Manifest name or model folder for the local engine. */
        model: z.string().default('whisper-base.en'),
        dtype: z.enum(['fp32', 'fp16', 'q8', 'q4']).default('fp32'),
        /** Run the local engine in a worker thread, off the main event loop. */
        worker: z.boolean().default(true),
        /** Language code, or `auto` for multilingual models. */
        language: z.string().default('en'),
        /** Re-decode cadence while speech goes on, in ms; 0 turns partials off. */
        partialIntervalMs: z.number().int().min(0).default(500),
        /** Requests waiting in the shared scheduler before partials are shed. */
        maxQueue: positiveInt.default(64),
        /** Batch concurrent requests from many sessions. */
        batch: z.boolean().default(true),
        maxBatch: positiveInt.default(8),
        remote,
      })
      .prefault({}),
    llm: z
      .object({
        engine: z.enum(['transformers', 'llama-cpp', 'openai']).default('llama-cpp'),
        /** Manifest name, model folder or .gguf file. */
        model: z.string().default('qwen2.5-0.5b-instruct-gguf'),
        systemPrompt: z
          .string()
          .default('You are a helpful voice assistant. Answer briefly, in plain spoken sentences.'),
        maxTokens: positiveInt.default(200),
        temperature: z.number().min(0).max(2).default(0.7),
        /** Conversation history kept per session, in tokens. */
        historyTokens: positiveInt.default(2048),
        /** Threads for llama.cpp; the library default oversubscribes small machines. */
        threads: positiveInt.default(1),
        /** A turn fails with a coded error when no token arrives within this time, in ms. */
        timeoutMs: positiveInt.default(20_000),
        remote,
      })
      .prefault({}),
    tts: z
      .object({
        engine: z.enum(['transformers', 'openai']).default('transformers'),
        model: z.string().default('mms-tts-eng'),
        voice: z.string().optional(),
        /** A sentence fails with a coded error when synthesis takes longer, in ms. */
        timeoutMs: positiveInt.default(20_000),
        remote,
      })
      .prefault({}),
    turn: z
      .object({
        /** Speech during thinking or speaking that lasts this long is a barge-in, in ms. */
        bargeInMinMs: z.number().int().min(0).default(300),
        /** Ignore inbound audio that is an echo of the agent's own voice. */
        echoSuppression: z.boolean().default(true),
        /** How far agent audio may run ahead of real time when sent, in ms. */
        playbackLeadMs: z.number().int().min(0).max(5000).default(200),
      })
      .prefault({}),
    emotion: z
      .object({
        enabled: z.boolean().default(true),
        /** Interval of `emotion.update` during speech, in ms (250 to 500 recommended). */
        updateIntervalMs: z.number().int().min(100).max(5000).default(400),
        /** Fusion weights written by `undertone emotion fit`; unset = shipped defaults. */
        weightsFile: z.string().optional(),
        /** Optional transformers.js text-classification model for sentiment. */
        textModel: z.string().optional(),
        /** Optional transformers.js audio-classification model for speech emotion. */
        audioModel: z.string().optional(),
      })
      .prefault({}),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info'),
      })
      .prefault({}),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.server.authRequired && cfg.server.apiKeys.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'apiKeys'],
        message: 'server.authRequired is true but no API key is configured',
      });
    }
    if (cfg.vad.deactivationThreshold > cfg.vad.activationThreshold) {
      ctx.addIssue({
        code: 'custom',
        path: ['vad', 'deactivationThreshold'],
        message: 'must not be above vad.activationThreshold',
      });
    }
    if (cfg.asr.engine === 'remote' && !cfg.asr.remote.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['asr', 'remote', 'url'],
        message: 'required when asr.engine is remote',
      });
    }
    if (cfg.llm.engine === 'openai' && !cfg.llm.remote.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['llm', 'remote', 'url'],
        message: 'required when llm.engine is openai',
      });
    }
    if (cfg.tts.engine === 'openai' && !cfg.tts.remote.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['tts', 'remote', 'url'],
        message: 'required when tts.engine is openai',
      });
    }
  });

export type UndertoneConfig = z.output<typeof configSchema>;
export type UndertoneConfigInput = z.input<typeof configSchema>;
