/**
 * Helpers for session tests: a sink that records what leaves the session (with wall times), the
 * real engines on fixture models, and feeding a recording as paced PCM16 frames.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type UndertoneConfig } from '../../src/config/index.js';
import { parseWav } from '../../src/audio/wav.js';
import { resample } from '../../src/audio/resampler.js';
import { createSileroVadEngine } from '../../src/vad/engines/silero-engine.js';
import { createWhisperLocalAsr } from '../../src/asr/engines/whisper-local.js';
import { LlamaCppEngine } from '../../src/llm/engines/llama-cpp.js';
import { TransformersLocalEngine } from '../../src/llm/engines/transformers-local.js';
import { TransformersTtsEngine } from '../../src/tts/engines/transformers-tts.js';
import { ensureFixtures } from '../../src/models/fixtures/index.js';
import type {
  ServerEvent,
  ServerEventType,
  SessionStartMessage,
} from '../../src/protocol/messages.js';
import type {
  AgentAudioFrame,
  Engines,
  SessionSink,
  VoiceSession,
} from '../../src/pipeline/types.js';
import { SHARED_MODELS_DIR } from '../helpers/shared-audio.js';

/** `session.start` for an agent on 16 kHz mono PCM16 in 20 ms frames. */
export const agentStart: SessionStartMessage = {
  type: 'session.start',
  version: 1,
  mode: 'agent',
  audio: { codec: 'pcm16', sampleRateHz: 16000, channels: 1, frameMs: 20 },
};

/** `session.start` for transcribe mode on 16 kHz mono PCM16 in 20 ms frames. */
export const transcribeStart: SessionStartMessage = { ...agentStart, mode: 'transcribe' };

export function testConfig(
  overrides: Record<string, string | number | boolean> = {},
): UndertoneConfig {
  return loadConfig({
    env: {},
    overrides: { 'log.level': 'silent', 'llm.temperature': 0, ...overrides },
  });
}

export interface RecordedAudio {
  frame: AgentAudioFrame;
  wallMs: number;
}

/** Records every event and frame, with the wall time it left the session. */
/** The event interface whose `type` admits `T` (some interfaces, e.g. call metrics, carry two). */
type EventOfType<T extends ServerEventType> = ServerEvent extends infer E
  ? E extends { type: infer U }
    ? T extends U
      ? E
      : never
    : never
  : never;

export class RecordingSink implements SessionSink {
  readonly events: Array<ServerEvent & { wallMs: number }> = [];
  readonly audioFrames: RecordedAudio[] = [];
  private waiters: Array<{ test: (e: ServerEvent) => boolean; resolve: (e: ServerEvent) => void }> =
    [];
  onAudio?: (frame: AgentAudioFrame) => void;

  event(event: ServerEvent): void {
    this.events.push({ ...event, wallMs: performance.now() });
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(event)) return true;
      w.resolve(event);
      return false;
    });
  }

  audio(frame: AgentAudioFrame): void {
    this.audioFrames.push({ frame, wallMs: performance.now() });
    this.onAudio?.(frame);
  }

  types(): ServerEventType[] {
    return this.events.map((e) => e.type);
  }

  of<T extends ServerEventType>(type: T): Array<EventOfType<T> & { wallMs: number }> {
    return this.events.filter((e) => e.type === type) as Array<
      Extract<ServerEvent, { type: T }> & { wallMs: number }
    >;
  }

  /** Resolves with the first event (past or future) that passes `test`. */
  waitFor<T extends ServerEvent>(test: (e: ServerEvent) => e is T, timeoutMs?: number): Promise<T>;
  waitFor(test: (e: ServerEvent) => boolean, timeoutMs?: number): Promise<ServerEvent>;
  waitFor(test: (e: ServerEvent) => boolean, timeoutMs = 30_000): Promise<ServerEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`event not seen within ${timeoutMs} ms; got ${this.types().join(',')}`)),
        timeoutMs,
      );
      this.waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }
}

export const isType =
  <T extends ServerEventType>(
    type: T,
    also: (e: Extract<ServerEvent, { type: T }>) => boolean = () => true,
  ) =>
  (e: ServerEvent): e is Extract<ServerEvent, { type: T }> =>
    e.type === type && also(e as Extract<ServerEvent, { type: T }>);

/** A 16 kHz mono recording as floats (first channel). */
export function readWav16k(path: string): Float32Array {
  const wav = parseWav(readFileSync(path));
  const mono = wav.channels[0]!;
  return wav.sampleRateHz === 16_000 ? mono : resample(mono, wav.sampleRateHz, 16_000);
}

/** PCM16 LE payload of float samples. */
export function pcm16(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  samples.forEach((v, i) =>
    view.setInt16(i * 2, Math.round(Math.max(-1, Math.min(1, v)) * 32767), true),
  );
  return out;
}

/** PCM16 LE payload back to floats. */
export function fromPcm16(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from(
    { length: bytes.byteLength / 2 },
    (_, i) => view.getInt16(i * 2, true) / 32768,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Pushes 16 kHz audio as 20 ms PCM16 frames. `realtime`: one frame per 20 ms of wall time (what
 * pacing and barge-in need); otherwise as fast as the event loop allows, yielding now and then.
 * `mix(startSample, frame)` may change each frame before it is sent (echo, overlaid speech).
 */
export async function feed(
  session: VoiceSession,
  samples: Float32Array,
  options: {
    realtime?: boolean;
    startSample?: number;
    mix?: (at: number, frame: Float32Array) => void;
  } = {},
): Promise<void> {
  const frame = 320;
  const t0 = performance.now();
  let seq = options.startSample === undefined ? 0 : options.startSample / frame;
  for (let at = 0; at < samples.length; at += frame) {
    const chunk = new Float32Array(frame);
    chunk.set(samples.subarray(at, Math.min(samples.length, at + frame)));
    options.mix?.((options.startSample ?? 0) + at, chunk);
    session.pushAudio(pcm16(chunk), { seq: seq, timestampMs: seq * 20 });
    seq++;
    if (options.realtime) {
      const due = t0 + (at + frame) / 16;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    } else if (seq % 25 === 0) {
      await sleep(0);
    }
  }
}

export interface RealEngines extends Engines {
  llmKind: 'llama-cpp' | 'transformers';
  close(): Promise<void>;
}

/**
 * Real engines on fixture models: Silero VAD, the Whisper fixture, the llama.cpp story model
 * from ../shared/models when present (else the transformers.js llama fixture), the VITS fixture.
 */
export async function createRealEngines(config: UndertoneConfig): Promise<RealEngines> {
  const folders = await ensureFixtures(undefined, [
    'whisper-tiny-random',
    'llama-tiny-random',
    'mms-tts-tiny-random',
  ]);
  const vad = await createSileroVadEngine({ model: config.vad.model, threads: 1 });
  const asr = await createWhisperLocalAsr({
    modelDir: folders['whisper-tiny-random']!,
    threads: 1,
  });
  const gguf = join(SHARED_MODELS_DIR, 'stories260K.gguf');
  const llmKind = existsSync(gguf) ? 'llama-cpp' : 'transformers';
  const llm =
    llmKind === 'llama-cpp'
      ? await LlamaCppEngine.create({
          modelPath: gguf,
          threads: 1,
          maxTokens: config.llm.maxTokens,
          temperature: 0,
        })
      : await TransformersLocalEngine.create({
          modelDir: folders['llama-tiny-random']!,
          threads: 1,
          maxTokens: config.llm.maxTokens,
          temperature: 0,
        });
  const tts = await TransformersTtsEngine.create({
    modelDir: folders['mms-tts-tiny-random']!,
    chunkMs: 20,
  });
  return {
    vad,
    asr,
    llm,
    tts,
    llmKind,
    async close() {
      await Promise.allSettled([vad.close(), asr.close(), llm.close(), tts.close()]);
    },
  };
}

/**
 * A caller streaming in real time (one 20 ms PCM16 frame per 20 ms), whose microphone may also
 * pick up the agent's audio: `enableEcho` plays each agent frame as a client would (from its
 * arrival, back to back) and adds it, delayed and attenuated, to what the caller sends.
 */
export class RealtimeCaller {
  /** Samples sent so far. */
  position = 0;
  private readonly echo = new Map<number, number>();
  private playEnd = 0;
  private readonly t0 = performance.now();

  constructor(private readonly session: VoiceSession) {}

  /** Feeds the agent's PCM16 16 kHz frames back with `delayMs` and `gainDb`. */
  enableEcho(sink: RecordingSink, delayMs: number, gainDb: number): void {
    const gain = 10 ** (gainDb / 20);
    sink.onAudio = (frame) => {
      const pcm = fromPcm16(frame.payload);
      const start = Math.max(this.position, this.playEnd);
      this.playEnd = start + pcm.length;
      const at = start + Math.round(delayMs * 16);
      pcm.forEach((v, i) => this.echo.set(at + i, (this.echo.get(at + i) ?? 0) + v * gain));
    };
  }

  async play(samples: Float32Array): Promise<void> {
    for (let at = 0; at < samples.length; at += 320) {
      const frame = new Float32Array(320);
      frame.set(samples.subarray(at, Math.min(samples.length, at + 320)));
      await this.send(frame);
    }
  }

  async silence(ms: number): Promise<void> {
    await this.play(new Float32Array(Math.round(ms * 16)));
  }

  /** Streams silence until `done()` holds (checked every frame) or `maxMs` passed. */
  async silenceUntil(done: () => boolean, maxMs = 20_000): Promise<void> {
    const until = this.position + maxMs * 16;
    while (!done() && this.position < until) await this.send(new Float32Array(320));
    if (!done()) throw new Error(`condition not met within ${maxMs} ms of audio`);
  }

  private async send(frame: Float32Array): Promise<void> {
    for (let i = 0; i < frame.length; i++) {
      const e = this.echo.get(this.position + i);
      if (e !== undefined) {
        frame[i] = frame[i]! + e;
        this.echo.delete(this.position + i);
      }
    }
    const seq = this.position / 320;
    this.session.pushAudio(pcm16(frame), { seq, timestampMs: seq * 20 });
    this.position += 320;
    const wait = this.t0 + this.position / 16 - performance.now();
    if (wait > 0) await sleep(wait);
  }
}
