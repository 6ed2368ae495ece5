/**
 * `@undertone/client`: the isomorphic core (browsers and Node). Node-only parts are in `./node`,
 * browser-only parts in `./browser`.
 */
export * from '../../src/protocol/index.js';
export {
  UndertoneClient,
  type UndertoneClientOptions,
  type StartOptions,
  type ClientState,
  type ReconnectOptions,
  type SendAudioOptions,
} from './undertone-client.js';
export type { ClientEventMap, ServerEventMap, AgentAudio } from './client-events.js';
export { ClockSync, type ClockEstimate, type ClockSample } from './clock-sync.js';
export {
  JitterBuffer,
  type JitterBufferOptions,
  type PlayoutFrame,
  type PushResult,
  type JitterStats,
} from './jitter-buffer.js';
export { AudioOutbox, type OutboundFrame, type AudioOutboxOptions } from './audio-outbox.js';
export { TurnLatencyTracker, type TurnLatency } from './turn-latency.js';
export { linkPlayback, type PlaybackLinkOptions } from './playback-link.js';
export { TypedEmitter } from './typed-emitter.js';
export { UndertoneClientError, CLIENT_ERROR_CODES, type ClientErrorCode } from './errors.js';
export { globalSocketFactory, type SocketFactory, type SocketLike } from './socket.js';
export * from './pcm.js';
