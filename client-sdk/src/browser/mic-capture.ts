/**
 * Microphone capture for browsers: `getUserMedia` with the browser's echo cancellation, noise
 * suppression and gain control, and an AudioWorklet that cuts the stream into frames of `frameMs`
 * and posts them to the main thread with the capture time of their first sample.
 */
import { CLIENT_ERROR_CODES, UndertoneClientError } from '../errors.js';
import { samplesPerFrame } from '../pcm.js';

export interface MicCaptureOptions {
  /** Rate of the capture context and of the frames, in Hz. Default 48000. */
  sampleRateHz?: number;
  /** Default 20. */
  frameMs?: number;
  /** Receives each frame: mono samples and the client clock at its first sample, in ms. */
  onFrame(samples: Float32Array, captureTimeMs: number): void;
  /** Extra constraints merged over the defaults. */
  constraints?: MediaTrackConstraints;
}

export interface MicCapture {
  readonly sampleRateHz: number;
  readonly context: AudioContext;
  readonly stream: MediaStream;
  stop(): Promise<void>;
}

/** The worklet, shipped as a string so it needs no separate file or bundler. */
const WORKLET_SOURCE = `
class UndertoneCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = options.processorOptions.frameSamples;
    this.buffer = new Float32Array(this.size);
    this.filled = 0;
    this.startTime = 0;
    this.running = true;
    this.port.onmessage = (e) => { if (e.data === 'stop') this.running = false; };
  }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (input) {
      let at = 0;
      while (at < input.length) {
        if (this.filled === 0) this.startTime = currentTime + at / sampleRate;
        const n = Math.min(this.size - this.filled, input.length - at);
        this.buffer.set(input.subarray(at, at + n), this.filled);
        this.filled += n;
        at += n;
        if (this.filled === this.size) {
          this.port.postMessage({ samples: this.buffer, time: this.startTime }, [this.buffer.buffer]);
          this.buffer = new Float32Array(this.size);
          this.filled = 0;
        }
      }
    }
    return this.running;
  }
}
registerProcessor('undertone-capture', UndertoneCapture);
`;

/** Asks for the microphone and starts posting frames. Call from a user gesture (autoplay rules). */
export async function startMicCapture(options: MicCaptureOptions): Promise<MicCapture> {
  const sampleRateHz = options.sampleRateHz ?? 48_000;
  const frameMs = options.frameMs ?? 20;
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: {
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
      channelCount: 1,
      ...options.constraints,
    },
  });

  const context = new AudioContext({ sampleRate: sampleRateHz, latencyHint: 'interactive' });
  if (context.sampleRate !== sampleRateHz) {
    stream.getTracks().forEach((t) => t.stop());
    await context.close();
    throw new UndertoneClientError(
      CLIENT_ERROR_CODES.unsupportedCodec,
      `this browser will not capture at ${sampleRateHz} Hz (got ${context.sampleRate})`,
    );
  }

  const moduleUrl = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: 'text/javascript' }));
  await context.audioWorklet.addModule(moduleUrl);
  URL.revokeObjectURL(moduleUrl);

  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, 'undertone-capture', {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    channelCount: 1,
    channelCountMode: 'explicit',
    processorOptions: { frameSamples: samplesPerFrame(sampleRateHz, frameMs) },
  });
  // A silent path to the destination keeps the graph pulling the worklet in every browser.
  const mute = context.createGain();
  mute.gain.value = 0;
  source.connect(node).connect(mute).connect(context.destination);

  node.port.onmessage = (e: MessageEvent<{ samples: Float32Array; time: number }>) => {
    options.onFrame(e.data.samples, contextTimeToClientMs(context, e.data.time));
  };
  if (context.state === 'suspended') await context.resume();

  return {
    sampleRateHz,
    context,
    stream,
    async stop() {
      node.port.postMessage('stop');
      source.disconnect();
      node.disconnect();
      stream.getTracks().forEach((t) => t.stop());
      await context.close();
    },
  };
}

/** Maps an AudioContext time (s) to the client clock (epoch ms, as `UndertoneClient.now()`). */
export function contextTimeToClientMs(
  context: BaseAudioContext & { getOutputTimestamp?: () => AudioTimestamp },
  timeS: number,
): number {
  const stamp = context.getOutputTimestamp?.();
  if (
    stamp?.contextTime !== undefined &&
    stamp.performanceTime !== undefined &&
    stamp.performanceTime > 0
  ) {
    return performance.timeOrigin + stamp.performanceTime + (timeS - stamp.contextTime) * 1000;
  }
  return performance.timeOrigin + performance.now() + (timeS - context.currentTime) * 1000;
}
