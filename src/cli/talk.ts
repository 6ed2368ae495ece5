/**
 * `undertone talk <file.wav>`: streams a recording to a server as a caller would (real time, Opus
 * by default) through the client SDK, prints what comes back and saves the agent's voice.
 *
 *   undertone talk call.wav [--url ws://127.0.0.1:8080] [--json] [--out reply.wav]
 *     [--codec opus|pcm16] [--mode agent|transcribe] [--api-key K] [--fast]
 *
 * Human output is a timeline (`[ 1.23s] vad.speech_started ...`); `--json` prints each event as
 * one JSON object per line. Exit codes: 0 done, 1 connection or session failure, 2 bad usage.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  JitterBuffer,
  UndertoneClient,
  VirtualPlayer,
  createFrameDecoder,
  linkPlayback,
  nodeSocketFactory,
  prepareAudio,
  streamAudio,
  type ServerEvent,
  type SessionStartedEvent,
  type StartOptions,
  type TurnLatency,
} from '../../client-sdk/src/node/index.js';
import { encodeWav, parseWav } from '../audio/wav.js';
import { formatEvent, formatLatency } from './talk-format.js';

const USAGE = `Usage: undertone talk <file.wav> [options]

Streams a WAV file (8-48 kHz, mono or stereo) to a server in real time and prints the replies.

Options:
  --url URL          server WebSocket URL (default ws://127.0.0.1:8080)
  --mode MODE        agent or transcribe (default: the server's mode); stereo files are sent
                     as two tracks (channelLayout separate) unless the mode is agent
  --roles A,B        names of the two tracks of a stereo file in transcribe mode, left first
                     (e.g. agent,customer: the customer's emotion is then reported per call)
  --codec CODEC      opus (default) or pcm16
  --out FILE         write the agent's audio to this WAV file (agent mode)
  --json             one JSON event per line instead of the timeline
  --api-key KEY      API key (sent as the x-api-key header)
  --fast             send 10x faster than real time (tests)
  --tail-ms MS       silence sent after the file so the last segment closes (default 1500)
  --wait-ms MS       longest wait for replies after the file (default 30000)
  --help             show this help`;

/** Quiet time after the last event before the call counts as finished, in ms. */
const QUIET_MS = 1500;
/** How long a final transcript may wait for its reply to start, in ms. */
const REPLY_START_GRACE_MS = 5000;

export async function talkCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'ws://127.0.0.1:8080' },
      mode: { type: 'string' },
      roles: { type: 'string' },
      codec: { type: 'string', default: 'opus' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      'api-key': { type: 'string' },
      fast: { type: 'boolean', default: false },
      'tail-ms': { type: 'string', default: '1500' },
      'wait-ms': { type: 'string', default: '30000' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const file = positionals[0];
  const mode = values.mode;
  const codec = values.codec;
  const tailMs = Number(values['tail-ms']);
  const waitMs = Number(values['wait-ms']);
  if (
    !file ||
    (mode !== undefined && mode !== 'agent' && mode !== 'transcribe') ||
    (codec !== 'opus' && codec !== 'pcm16')
  ) {
    process.stderr.write(
      `undertone talk: ${file ? 'bad --mode or --codec' : 'a WAV file is required'}\n\n${USAGE}\n`,
    );
    return 2;
  }
  if (!Number.isFinite(tailMs) || tailMs < 0 || !Number.isFinite(waitMs) || waitMs < 0) {
    process.stderr.write('undertone talk: --tail-ms and --wait-ms take a number of ms\n');
    return 2;
  }

  let wav;
  try {
    wav = parseWav(new Uint8Array(await readFile(file)));
  } catch (err) {
    process.stderr.write(`undertone talk: cannot read ${file}: ${(err as Error).message}\n`);
    return 1;
  }
  if (wav.sampleRateHz < 8000 || wav.sampleRateHz > 48_000 || wav.channels.length > 2) {
    process.stderr.write(
      `undertone talk: ${file}: need 8-48 kHz mono or stereo, got ${wav.sampleRateHz} Hz x${wav.channels.length}\n`,
    );
    return 1;
  }

  const audio = prepareAudio({ sampleRateHz: wav.sampleRateHz, channels: wav.channels }, codec);
  const stereo = audio.format.channels === 2;
  const start: StartOptions = { audio: audio.format };
  if (mode) start.mode = mode;
  if (stereo && mode !== 'agent') start.channelLayout = 'separate';
  if (values.roles !== undefined) {
    const roles = values.roles.split(',').map((r) => r.trim());
    if (start.channelLayout !== 'separate' || roles.length !== 2 || roles.some((r) => r === '')) {
      process.stderr.write(
        'undertone talk: --roles takes two names (left,right) and needs a stereo file in transcribe mode\n',
      );
      return 2;
    }
    start.channelRoles = roles;
  }
  if (mode !== 'transcribe')
    start.output = { codec, sampleRateHz: codec === 'opus' ? 48_000 : 16_000 };

  return runTalk(
    {
      url: values.url,
      apiKey: values['api-key'],
      json: values.json,
      out: values.out,
      fast: values.fast,
      tailMs,
      waitMs,
    },
    start,
    audio,
  );
}

interface TalkSettings {
  url: string;
  apiKey: string | undefined;
  json: boolean;
  out: string | undefined;
  fast: boolean;
  tailMs: number;
  waitMs: number;
}

async function runTalk(
  settings: TalkSettings,
  start: StartOptions,
  audio: ReturnType<typeof prepareAudio>,
): Promise<number> {
  const client = new UndertoneClient({
    url: settings.url,
    apiKey: settings.apiKey,
    socketFactory: nodeSocketFactory,
  });
  const t0 = client.now();
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const stamp = () => `[${((client.now() - t0) / 1000).toFixed(2).padStart(5)}s]`;
  const watch = new CallWatch(client);
  let fatal: string | undefined;

  client.on('event', (event: ServerEvent) => {
    if (event.type === 'error' && !event.recoverable) fatal = `${event.code}: ${event.message}`;
    if (settings.json) print(JSON.stringify(event));
    else {
      const line = formatEvent(event, watch.replyText(event));
      if (line) print(`${stamp()} ${line}`);
    }
  });
  client.on('turn.latency', (latency: TurnLatency) => {
    if (settings.json) print(JSON.stringify({ type: 'turn.latency', ...latency }));
    else print(`${stamp()} ${formatLatency(latency)}`);
  });
  client.on('disconnected', (e) => {
    if (!settings.json)
      print(`${stamp()} disconnected (${e.code}${e.willReconnect ? ', reconnecting' : ''})`);
  });
  client.on('resume-failed', (e) => {
    if (!settings.json) print(`${stamp()} resume failed: ${e.reason}; continuing in a new session`);
  });

  let started: SessionStartedEvent;
  try {
    started = await client.start(start);
  } catch (err) {
    process.stderr.write(
      `undertone talk: cannot start a session at ${settings.url}: ${(err as Error).message}\n`,
    );
    return 1;
  }

  watch.mode = started.mode;
  const reply = started.mode === 'agent' ? new ReplyRecorder(client, started) : undefined;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    await streamAudio(client, audio, {
      speed: settings.fast ? 10 : 1,
      tailSilenceMs: settings.tailMs,
      signal: abort.signal,
    });
    await watch.settled(settings.waitMs, abort.signal, () => reply?.busy ?? false);
    await client.end(abort.signal.aborted ? 'interrupted' : 'end of file');
  } finally {
    process.off('SIGINT', onSigint);
    reply?.stop();
    client.close();
  }

  if (reply && settings.out) {
    const samples = reply.samples();
    if (samples.length > 0) await writeFile(settings.out, encodeWav([samples], reply.sampleRateHz));
    else
      process.stderr.write('undertone talk: no agent audio came back; nothing written to --out\n');
  }
  if (fatal) {
    process.stderr.write(`undertone talk: session failed: ${fatal}\n`);
    return 1;
  }
  return 0;
}

/**
 * Knows when the call has nothing more to say: no speech segment open, every final transcript
 * answered (agent mode), no reply in progress or still playing, and no event for a quiet period.
 */
class CallWatch {
  private lastEventMs: number;
  private openSegments = 0;
  private readonly pendingReplies = new Set<string>();
  private readonly awaitingReply = new Map<string, number>();
  private readonly texts = new Map<string, string>();
  /** The session's mode, from `session.started`. */
  mode: 'agent' | 'transcribe' = 'agent';

  constructor(private readonly client: UndertoneClient) {
    this.lastEventMs = client.now();
    client.on('event', (e) => this.onEvent(e));
  }

  /** The reply text so far, for `response.done` lines (accumulated from deltas). */
  replyText(event: ServerEvent): string | undefined {
    return event.type === 'response.done'
      ? event.text || this.texts.get(event.responseId)
      : undefined;
  }

  private onEvent(e: ServerEvent): void {
    if (e.type === 'prosody' || e.type === 'pong' || e.type === 'call.metrics') return;
    this.lastEventMs = this.client.now();
    switch (e.type) {
      case 'vad.speech_started':
        this.openSegments++;
        break;
      case 'vad.speech_stopped':
        this.openSegments = Math.max(0, this.openSegments - 1);
        break;
      case 'transcript.final':
        if (this.mode === 'agent' && e.text.trim() !== '')
          this.awaitingReply.set(e.segmentId, this.client.now());
        break;
      case 'response.started':
        this.pendingReplies.add(e.responseId);
        this.awaitingReply.delete(e.inReplyTo);
        break;
      case 'response.text.delta':
        this.texts.set(e.responseId, (this.texts.get(e.responseId) ?? '') + e.delta);
        break;
      case 'response.done':
      case 'response.cancelled':
        this.pendingReplies.delete(e.responseId);
        break;
    }
  }

  /** Resolves when the call is quiet, or after `timeoutMs`. */
  async settled(timeoutMs: number, signal: AbortSignal, playing: () => boolean): Promise<void> {
    const deadline = this.client.now() + timeoutMs;
    while (!signal.aborted && this.client.now() < deadline && this.client.state !== 'closed') {
      const now = this.client.now();
      for (const [segment, at] of this.awaitingReply)
        if (now - at > REPLY_START_GRACE_MS) this.awaitingReply.delete(segment);
      const busy =
        this.openSegments > 0 ||
        this.pendingReplies.size > 0 ||
        this.awaitingReply.size > 0 ||
        playing();
      if (!busy && now - this.lastEventMs >= QUIET_MS) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Plays agent audio on a virtual speaker (for playback.position) and keeps it for `--out`. */
class ReplyRecorder {
  readonly sampleRateHz: number;
  private readonly frames = new Map<string, { seq: number; samples: Float32Array }[]>();
  private readonly player: VirtualPlayer;
  private readonly unlink: () => void;

  constructor(client: UndertoneClient, started: SessionStartedEvent) {
    this.sampleRateHz = started.output.sampleRateHz;
    const decoder = createFrameDecoder({
      codec: started.output.codec,
      sampleRateHz: this.sampleRateHz,
    });
    const buffer = new JitterBuffer({ targetMs: 60 });
    this.unlink = linkPlayback(client, {
      buffer,
      sampleRateHz: this.sampleRateHz,
      decode: (payload) => {
        const samples = decoder.decode(payload);
        return samples;
      },
    });
    this.player = new VirtualPlayer(client, buffer, {
      onFrame: (frame) => {
        const list = this.frames.get(frame.responseId) ?? [];
        list.push({ seq: frame.seq, samples: frame.samples });
        this.frames.set(frame.responseId, list);
      },
    });
    this.player.start();
  }

  get busy(): boolean {
    return this.player.busy;
  }

  stop(): void {
    this.player.stop();
    this.unlink();
  }

  /** The agent audio that played, responses one after another. */
  samples(): Float32Array {
    const all = [...this.frames.values()].flat();
    const out = new Float32Array(all.reduce((n, f) => n + f.samples.length, 0));
    let at = 0;
    for (const f of all) {
      out.set(f.samples, at);
      at += f.samples.length;
    }
    return out;
  }
}
