/**
 * The caller's audio, frame by frame, turned into 16 kHz mono tracks: sequence tracking (loss,
 * reordering), decoding (Opus, PCM16 LE, G.711), loss concealment, non-finite cleanup, stereo
 * downmix or split, and resampling.
 *
 * The output is the session's audio clock: every lost frame is replaced by concealment of its
 * duration, so `samples / 16` is session time in ms and later timestamps never drift.
 */
import type { AudioFormat } from '../protocol/messages.js';
import { ERROR_CODES, type ErrorCode } from '../protocol/error-codes.js';
import { concatSamples, deinterleave, sanitizeSamples, StereoDownmixer } from './channel-mix.js';
import { ALAW_TO_INT16, MULAW_TO_INT16 } from './g711.js';
import { OpusStreamDecoder } from './opus-stream-decoder.js';
import { Resampler } from './resampler.js';
import { INTERNAL_SAMPLE_RATE_HZ } from './types.js';

export type ChannelLayout = 'mixed' | 'separate';

export interface AudioInputOptions {
  /** `mixed` (default) downmixes stereo to one track; `separate` keeps one track per channel. */
  channelLayout?: ChannelLayout;
  /** Longest gap concealed at once, in ms (default 10 000); a longer one is cut and reported. */
  maxGapMs?: number;
  /** Consecutive frames of one wrong size before the stream's rate is reported wrong (25). */
  mismatchFramesForRate?: number;
}

export interface PushMeta {
  /** Sequence number of the frame (uint32, wraps). */
  seq?: number;
  /** Capture time in ms; used for loss detection only when `seq` is absent. */
  timestampMs?: number;
}

export interface AudioInputError {
  code: ErrorCode;
  message: string;
}

export interface AudioInputResult {
  /** 16 kHz mono samples, one array per track (1 for `mixed`, `channels` for `separate`). */
  tracks: Float32Array[];
  /** Frames missing before this one (a sequence gap), plus this one when it was empty. */
  lostFrames: number;
  /** True when the frame came late or twice; it was dropped. */
  reordered: boolean;
  errors: AudioInputError[];
}

/** Counters over the life of the input. */
export interface AudioInputStats {
  frames: number;
  bytes: number;
  lostFrames: number;
  reorderedFrames: number;
  decodeErrors: number;
  /** Audio delivered per track, in ms at 16 kHz. */
  audioMs: number;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export class AudioInput {
  readonly format: Readonly<AudioFormat>;
  readonly channelLayout: ChannelLayout;
  /** Number of output tracks. */
  readonly trackCount: number;
  /** Rate of decoded samples before resampling (Opus decodes straight to 16 kHz). */
  readonly decodeRateHz: number;
  private readonly opus: OpusStreamDecoder | null;
  private readonly downmixer = new StereoDownmixer();
  private readonly resamplers: Resampler[];
  private readonly maxGapMs: number;
  private readonly mismatchFramesForRate: number;
  private expectedSeq: number | null = null;
  private expectedTimestampMs: number | null = null;
  /** Samples per channel of the last frame, at the decode rate: the size of a lost one. */
  private frameSamples: number;
  private mismatchRun = 0;
  private mismatchBytes = -1;
  private rateMismatchReported = false;
  private inNonFiniteBurst = false;
  private readonly counters: AudioInputStats = {
    frames: 0,
    bytes: 0,
    lostFrames: 0,
    reorderedFrames: 0,
    decodeErrors: 0,
    audioMs: 0,
  };

  constructor(format: AudioFormat, options: AudioInputOptions = {}) {
    this.format = { ...format };
    this.channelLayout = options.channelLayout ?? 'mixed';
    this.trackCount = this.channelLayout === 'separate' ? format.channels : 1;
    this.maxGapMs = options.maxGapMs ?? 10_000;
    this.mismatchFramesForRate = options.mismatchFramesForRate ?? 25;
    this.opus =
      format.codec === 'opus'
        ? new OpusStreamDecoder(INTERNAL_SAMPLE_RATE_HZ, format.channels, format.frameMs)
        : null;
    this.decodeRateHz = this.opus ? INTERNAL_SAMPLE_RATE_HZ : format.sampleRateHz;
    this.frameSamples = Math.round((this.decodeRateHz * format.frameMs) / 1000);
    this.resamplers = Array.from(
      { length: this.trackCount },
      () => new Resampler(this.decodeRateHz, INTERNAL_SAMPLE_RATE_HZ),
    );
  }

  get stats(): Readonly<AudioInputStats> {
    return { ...this.counters };
  }

  /** Decodes one binary frame's payload. Never throws on bad data: it reports it. */
  push(payload: Uint8Array, meta: PushMeta = {}): AudioInputResult {
    const errors: AudioInputError[] = [];
    this.counters.frames++;
    this.counters.bytes += payload.byteLength;

    const order = this.checkOrder(meta);
    if (order === 'late') {
      this.counters.reorderedFrames++;
      return { tracks: this.emptyTracks(), lostFrames: 0, reordered: true, errors };
    }

    const parts: Float32Array[] = [];
    let lostFrames = order;
    if (lostFrames > 0) parts.push(this.concealFrames(lostFrames, errors));

    if (payload.byteLength === 0) {
      lostFrames++;
      parts.push(this.concealFrames(1, errors));
    } else {
      parts.push(this.decode(payload, errors));
    }

    this.counters.lostFrames += lostFrames;
    return { tracks: this.route(concat(parts), errors), lostFrames, reordered: false, errors };
  }

  /**
   * Takes already decoded float samples (interleaved, at the format's rate), for sources that
   * are not a codec payload: float files, tests, TTS loopback.
   */
  pushFloat32(interleaved: Float32Array, meta: PushMeta = {}): AudioInputResult {
    const errors: AudioInputError[] = [];
    const order = this.checkOrder(meta);
    if (order === 'late') {
      this.counters.reorderedFrames++;
      return { tracks: this.emptyTracks(), lostFrames: 0, reordered: true, errors };
    }

    const samples = Float32Array.from(interleaved);
    if (samples.length >= this.format.channels) {
      this.frameSamples = Math.floor(samples.length / this.format.channels);
    }
    const parts = order > 0 ? [this.concealFrames(order, errors), samples] : [samples];
    this.counters.frames++;
    this.counters.lostFrames += order;
    return {
      tracks: this.route(concat(parts), errors),
      lostFrames: order,
      reordered: false,
      errors,
    };
  }

  /** The samples the resamplers still hold, zero-padded: call once at the end of the stream. */
  flush(): Float32Array[] {
    const tracks = this.resamplers.map((r) => r.flush());
    this.counters.audioMs += (tracks[0]?.length ?? 0) / 16;
    return tracks;
  }

  /** Returns the number of lost frames before this one, or 'late' for one to drop. */
  private checkOrder(meta: PushMeta): number | 'late' {
    const frameMs = (this.frameSamples * 1000) / this.decodeRateHz;
    let lost = 0;
    if (meta.seq !== undefined) {
      const seq = meta.seq >>> 0;
      if (this.expectedSeq !== null) {
        const diff = (seq - this.expectedSeq) >>> 0;
        if (diff >= 0x80000000) return 'late';
        lost = diff;
      }
      this.expectedSeq = (seq + 1) >>> 0;
    } else if (meta.timestampMs !== undefined && this.expectedTimestampMs !== null) {
      const gapMs = meta.timestampMs - this.expectedTimestampMs;
      if (gapMs <= -frameMs / 2) return 'late';
      if (gapMs >= frameMs * 1.5) lost = Math.round(gapMs / frameMs);
    }
    if (meta.timestampMs !== undefined) this.expectedTimestampMs = meta.timestampMs + frameMs;
    return lost;
  }

  /** Interleaved concealment for `frames` lost frames, at the decode rate. */
  private concealFrames(frames: number, errors: AudioInputError[]): Float32Array {
    let samples = frames * this.frameSamples;
    const maxSamples = Math.round((this.maxGapMs * this.decodeRateHz) / 1000);
    if (samples > maxSamples) {
      errors.push({
        code: ERROR_CODES.frameLoss,
        message: `gap of ${frames} frames exceeds ${this.maxGapMs} ms; concealed only that much`,
      });
      samples = maxSamples;
    }
    if (this.opus) return this.opus.conceal(samples);
    return new Float32Array(samples * this.format.channels);
  }

  private decode(payload: Uint8Array, errors: AudioInputError[]): Float32Array {
    if (this.opus) {
      const result = this.opus.decode(payload);
      if (result.error) {
        this.counters.decodeErrors++;
        errors.push({
          code: ERROR_CODES.opusDecode,
          message: `Opus packet dropped: ${result.error}`,
        });
      } else {
        this.frameSamples = this.opus.packetSamples;
      }
      return result.samples;
    }

    const { codec, channels } = this.format;
    const bytesPerSample = codec === 'pcm16' ? 2 : 1;
    const bytesPerFrame = bytesPerSample * channels;
    const usable = payload.byteLength - (payload.byteLength % bytesPerFrame);
    if (usable !== payload.byteLength) {
      errors.push({
        code: ERROR_CODES.frameSizeMismatch,
        message: `${payload.byteLength} bytes: not whole ${channels}-channel ${codec} samples`,
      });
    }
    this.checkFrameSize(payload.byteLength, bytesPerFrame, errors);

    const body = payload.subarray(0, usable);
    if (body.byteLength > 0) this.frameSamples = body.byteLength / bytesPerFrame;
    if (codec === 'pcm16') return pcm16ToFloat(body);
    return g711ToFloat(body, codec === 'alaw' ? ALAW_TO_INT16 : MULAW_TO_INT16);
  }

  /** A frame of another size than `frameMs` declares is reported once per run of them. */
  private checkFrameSize(bytes: number, bytesPerFrame: number, errors: AudioInputError[]): void {
    const { frameMs, sampleRateHz, channels, codec } = this.format;
    const expected = Math.round((sampleRateHz * frameMs) / 1000) * bytesPerFrame;
    if (bytes === expected) {
      this.mismatchRun = 0;
      return;
    }

    this.mismatchRun = bytes === this.mismatchBytes ? this.mismatchRun + 1 : 1;
    this.mismatchBytes = bytes;
    if (this.mismatchRun === 1) {
      errors.push({
        code: ERROR_CODES.frameSizeMismatch,
        message: `frame of ${bytes} bytes; ${frameMs} ms at ${sampleRateHz} Hz is ${expected}`,
      });
    }
    if (this.mismatchRun === this.mismatchFramesForRate && !this.rateMismatchReported) {
      this.rateMismatchReported = true;
      const impliedHz = Math.round((bytes / bytesPerFrame / frameMs) * 1000);
      errors.push({
        code: ERROR_CODES.sampleRateMismatch,
        message:
          `every frame holds ${bytes} bytes, ${frameMs} ms of ${codec} at ${impliedHz} Hz, ` +
          `not ${sampleRateHz} Hz as declared`,
      });
    }
  }

  /** Cleans, downmixes or splits, and resamples interleaved decoded samples. */
  private route(interleaved: Float32Array, errors: AudioInputError[]): Float32Array[] {
    const nonFinite = sanitizeSamples(interleaved);
    if (nonFinite > 0 && !this.inNonFiniteBurst) {
      errors.push({
        code: ERROR_CODES.nonFiniteSamples,
        message: `${nonFinite} NaN or infinite samples replaced by silence`,
      });
    }
    this.inNonFiniteBurst = nonFinite > 0;

    const channels = this.format.channels;
    let tracks: Float32Array[];
    if (channels === 1) tracks = [interleaved];
    else if (this.channelLayout === 'separate') tracks = deinterleave(interleaved, channels);
    else tracks = [this.downmixer.downmix(interleaved)];

    // Decoded arrays are fresh, so at 16 kHz they pass through without the resampler's copy.
    const passThrough = this.decodeRateHz === INTERNAL_SAMPLE_RATE_HZ;
    const out = tracks.map((t, i) => (passThrough ? t : this.resamplers[i]!.push(t)));
    this.counters.audioMs += out[0]!.length / 16;
    return out;
  }

  private emptyTracks(): Float32Array[] {
    return Array.from({ length: this.trackCount }, () => new Float32Array(0));
  }
}

/** Like `concatSamples`, but a single part is passed on without a copy. */
function concat(parts: Float32Array[]): Float32Array {
  return parts.length === 1 ? parts[0]! : concatSamples(parts);
}

/** Little-endian int16 to floats by /32768 (never reinterpreted as float). */
export function pcm16ToFloat(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >> 1;
  const out = new Float32Array(n);
  if (LITTLE_ENDIAN && (bytes.byteOffset & 1) === 0) {
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) out[i] = pcm[i]! / 32768;
    return out;
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true) / 32768;
  return out;
}

function g711ToFloat(bytes: Uint8Array, table: Int16Array): Float32Array {
  const out = new Float32Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i++) out[i] = table[bytes[i]!]! / 32768;
  return out;
}
