/**
 * Agent audio playback in the browser: frames go through the jitter buffer and are scheduled on an
 * AudioContext a little ahead of the play head. A cancelled response (barge-in) is cut at once,
 * scheduled sources included. The player reports what was actually heard as `playback.position`
 * and tells the client when a reply's first audio reached the speaker (`turn.latency`).
 *
 * PCM16 output (ask for it with `session.start` `output`) is decoded here; Opus output uses the
 * WebCodecs `AudioDecoder`.
 */
import type { Codec } from '../../../src/protocol/index.js';
import { JitterBuffer } from '../jitter-buffer.js';
import { pcm16BytesToFloat } from '../pcm.js';
import { linkPlayback } from '../playback-link.js';
import type { UndertoneClient } from '../undertone-client.js';
import { contextTimeToClientMs } from './mic-capture.js';

export interface BrowserPlayerOptions {
  /** Codec and rate of agent audio (the `output` of `session.started`). */
  output: { codec: Codec; sampleRateHz: number };
  /** Jitter target, in ms. Default 60. */
  targetMs?: number;
  /** How far ahead of the play head audio is scheduled, in ms. Default 100. */
  lookaheadMs?: number;
  /** Interval of `playback.position` reports, in ms. Default 250. */
  reportIntervalMs?: number;
  /** An existing context to play on; one is created otherwise. */
  context?: AudioContext;
  /** Called when a response's first audio starts at the speaker. */
  onFirstAudio?(responseId: string): void;
}

interface Scheduled {
  source: AudioBufferSourceNode;
  responseId: string;
  startS: number;
  endS: number;
}

export class BrowserPlayer {
  readonly buffer: JitterBuffer;
  readonly context: AudioContext;
  private readonly scheduled: Scheduled[] = [];
  private scheduledUntilS = 0;
  private readonly played = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastReportS = 0;
  private readonly unlink: () => void;
  private readonly lookaheadS: number;
  private readonly reportIntervalS: number;
  private decoder: AudioDecoder | undefined;

  constructor(
    private readonly client: UndertoneClient,
    private readonly options: BrowserPlayerOptions,
  ) {
    this.buffer = new JitterBuffer({ targetMs: options.targetMs ?? 60 });
    this.context = options.context ?? new AudioContext({ latencyHint: 'interactive' });
    this.lookaheadS = (options.lookaheadMs ?? 100) / 1000;
    this.reportIntervalS = (options.reportIntervalMs ?? 250) / 1000;

    const rate = options.output.sampleRateHz;
    if (options.output.codec === 'opus') {
      this.unlink = this.linkOpus(rate);
    } else {
      this.unlink = linkPlayback(client, {
        buffer: this.buffer,
        decode: pcm16BytesToFloat,
        sampleRateHz: rate,
      });
    }
    const offCancel = client.on('response.cancelled', (e) => this.cut(e.responseId));
    const offFailed = client.on('resume-failed', () => this.cutAll());
    const unlinkAudio = this.unlink;
    this.unlink = () => {
      unlinkAudio();
      offCancel();
      offFailed();
    };
  }

  /** Starts the play loop (resume the context from a user gesture first). */
  async start(): Promise<void> {
    if (this.context.state === 'suspended') await this.context.resume();
    this.timer ??= setInterval(() => this.tick(), 20);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unlink();
    this.cutAll();
    this.decoder?.close();
    if (!this.options.context) await this.context.close();
  }

  /** Agent audio scheduled or queued, in ms. */
  get pendingMs(): number {
    return (
      this.buffer.queuedMs() + Math.max(0, this.scheduledUntilS - this.context.currentTime) * 1000
    );
  }

  private tick(): void {
    const now = this.context.currentTime;
    while (this.scheduledUntilS < now + this.lookaheadS) {
      const frame = this.buffer.pop();
      if (!frame) break;

      const audio = this.context.createBuffer(1, frame.samples.length, frame.sampleRateHz);
      audio.copyToChannel(frame.samples as Float32Array<ArrayBuffer>, 0);
      const source = this.context.createBufferSource();
      source.buffer = audio;
      source.connect(this.context.destination);
      const startS = Math.max(this.scheduledUntilS, now + 0.005);
      source.start(startS);
      this.scheduledUntilS = startS + audio.duration;
      this.scheduled.push({
        source,
        responseId: frame.responseId,
        startS,
        endS: this.scheduledUntilS,
      });

      if (frame.first) {
        // At the ear: when the sample leaves the speaker, output latency included.
        const outputLatencyS = this.context.outputLatency || this.context.baseLatency || 0;
        this.client.markFirstPlayed(
          frame.responseId,
          contextTimeToClientMs(this.context, startS + outputLatencyS),
        );
        this.options.onFirstAudio?.(frame.responseId);
      }
    }

    this.settle(now);
    if (now - this.lastReportS >= this.reportIntervalS) this.report(now);
  }

  /** Moves sources that finished playing into the played totals. */
  private settle(now: number): void {
    while (this.scheduled.length > 0 && this.scheduled[0]!.endS <= now) {
      const done = this.scheduled.shift()!;
      this.played.set(
        done.responseId,
        (this.played.get(done.responseId) ?? 0) + (done.endS - done.startS) * 1000,
      );
    }
  }

  private report(now: number): void {
    this.lastReportS = now;
    const partial = this.scheduled[0];
    const positions = new Map(this.played);
    if (partial && partial.startS < now) {
      positions.set(
        partial.responseId,
        (positions.get(partial.responseId) ?? 0) + (now - partial.startS) * 1000,
      );
    }
    for (const [responseId, playedMs] of positions)
      this.client.sendPlaybackPosition(responseId, playedMs);
    // Finished responses need no further reports.
    for (const id of this.played.keys())
      if (!this.scheduled.some((s) => s.responseId === id)) this.played.delete(id);
  }

  /** Stops a response now: queued frames dropped, scheduled sources silenced. */
  private cut(responseId: string): void {
    this.buffer.clear(responseId);
    const now = this.context.currentTime;
    for (let i = this.scheduled.length - 1; i >= 0; i--) {
      const s = this.scheduled[i]!;
      if (s.responseId !== responseId) continue;
      try {
        s.source.stop();
      } catch {
        // not started yet in some browsers: disconnecting is enough
      }
      s.source.disconnect();
      this.scheduled.splice(i, 1);
    }
    this.scheduledUntilS =
      this.scheduled.length > 0 ? this.scheduled[this.scheduled.length - 1]!.endS : now;
  }

  private cutAll(): void {
    this.buffer.clearAll();
    for (const s of this.scheduled.splice(0)) {
      try {
        s.source.stop();
      } catch {
        // already stopped
      }
      s.source.disconnect();
    }
    this.scheduledUntilS = this.context.currentTime;
  }

  /** Opus agent audio through WebCodecs; decoded frames land in the jitter buffer. */
  private linkOpus(sampleRateHz: number): () => void {
    const pending = new Map<number, { responseId: string; seq: number }>();
    let mediaUs = 0;
    this.decoder = new AudioDecoder({
      output: (data) => {
        const meta = pending.get(data.timestamp);
        pending.delete(data.timestamp);
        const samples = new Float32Array(data.numberOfFrames);
        data.copyTo(samples, { planeIndex: 0, format: 'f32-planar' });
        if (meta) this.buffer.push(meta.responseId, meta.seq, samples, data.sampleRate);
        data.close();
      },
      error: () => {
        // A broken packet: that frame is skipped by the jitter buffer.
      },
    });
    this.decoder.configure({ codec: 'opus', sampleRate: sampleRateHz, numberOfChannels: 1 });

    const offs = [
      this.client.on('agent.audio', (frame) => {
        if (this.decoder?.state !== 'configured') return;
        pending.set(mediaUs, { responseId: frame.responseId, seq: frame.seq });
        this.decoder.decode(
          new EncodedAudioChunk({ type: 'key', timestamp: mediaUs, data: frame.payload }),
        );
        mediaUs += 20_000;
      }),
      this.client.on('response.done', (e) => this.buffer.end(e.responseId)),
    ];
    return () => offs.forEach((off) => off());
  }
}
