/**
 * The browser entry of the SDK: the isomorphic core plus microphone capture, encoding and
 * playback. Served as plain ES modules (see client-sdk/README.md); no bundler needed.
 */
export * from '../index.js';
export {
  startMicCapture,
  contextTimeToClientMs,
  type MicCapture,
  type MicCaptureOptions,
} from './mic-capture.js';
export {
  createBrowserEncoder,
  webCodecsOpusSupported,
  type BrowserEncoder,
  type BrowserEncoderKind,
  type BrowserEncoderOptions,
  type EncodedPacket,
} from './opus-encoder.js';
export {
  WasmOpusEncoder,
  defaultOpusWasmUrl,
  loadWasmOpus,
  type WasmOpusEncoderOptions,
  type WasmOpusModule,
} from './wasm-opus.js';
export { BrowserPlayer, type BrowserPlayerOptions } from './player.js';
