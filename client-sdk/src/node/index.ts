/** The Node entry of the SDK: the isomorphic core plus sockets with headers, Opus, WAV files. */
export * from '../index.js';
export { nodeSocketFactory } from './node-socket.js';
export {
  createFrameDecoder,
  createFrameEncoder,
  type FrameDecoder,
  type FrameEncoder,
  type CodecOptions,
} from './opus-codec.js';
export { parseWavBytes, readWavFile, type DecodedAudio } from './wav-file.js';
export {
  prepareAudio,
  streamAudio,
  type PreparedAudio,
  type StreamAudioOptions,
  type StreamResult,
} from './file-streamer.js';
export { VirtualPlayer, type VirtualPlayerOptions } from './virtual-player.js';
