/**
 * Wire protocol v1: the JSON messages a client and the server exchange.
 *
 * Control travels as JSON text frames; audio travels as binary frames with the header in
 * `frame-header.ts`. This file is the one part of `src/` that `client-sdk/` imports, so it holds
 * types and constants only: no Node APIs, no runtime dependencies.
 *
 * Every server event carries `type`, `sessionId` and `timeMs`: milliseconds of session audio
 * (the caller's audio clock, starting at 0 with the first frame), not wall time.
 */

export const PROTOCOL_VERSION = 1;

export type Codec = 'opus' | 'pcm16' | 'mulaw' | 'alaw';
export const CODECS: readonly Codec[] = ['opus', 'pcm16', 'mulaw', 'alaw'];

export type SessionMode = 'agent' | 'transcribe';
export const SESSION_MODES: readonly SessionMode[] = ['agent', 'transcribe'];

/** Sample rates a session may declare for its input, in Hz. */
export const SAMPLE_RATES_HZ = [8000, 16000, 24000, 48000] as const;
export type SampleRateHz = (typeof SAMPLE_RATES_HZ)[number];

/** Frame durations a session may declare, in ms. Opus allows 2.5 to 120 ms; we take 10 to 120. */
export const FRAME_DURATIONS_MS = [10, 20, 40, 60, 80, 100, 120] as const;

export interface AudioFormat {
  codec: Codec;
  sampleRateHz: SampleRateHz;
  /** 1 or 2. Stereo is downmixed unless `channelLayout` is `separate`. */
  channels: 1 | 2;
  /** Nominal duration of one binary frame, in ms. */
  frameMs: number;
}

// ---------------------------------------------------------------------------------------------
// Client to server
// ---------------------------------------------------------------------------------------------

export interface SessionStartMessage {
  type: 'session.start';
  /** Must equal PROTOCOL_VERSION. */
  version: number;
  mode: SessionMode;
  audio: AudioFormat;
  /**
   * For stereo input: `mixed` (default) downmixes to one track; `separate` keeps each channel as
   * its own speaker track with its own VAD, transcripts and emotion (call recordings).
   */
  channelLayout?: 'mixed' | 'separate';
  /** Names for the tracks of a `separate` session, e.g. `['agent', 'customer']`. */
  channelRoles?: string[];
  /** Format of agent audio sent back. Defaults to the input codec and rate. */
  output?: { codec: Codec; sampleRateHz: SampleRateHz };
  /** API key, when the server requires one and the client cannot send a header. */
  apiKey?: string;
  /** Token from an earlier `session.started`, to resume a dropped session. */
  resumeToken?: string;
  /**
   * With `resumeToken`: the `eventIndex` of the last event this client received, so the server
   * replays only the events after it. Absent: the server replays what it buffered while detached.
   */
  lastEventIndex?: number;
  /** Emotion inference; off for a whole session, or for some tracks only (by channel index). */
  emotion?: { enabled?: boolean; disabledChannels?: number[] };
  /** Interval of `prosody` events in ms; 0 turns them off. Server default applies when absent. */
  prosodyIntervalMs?: number;
  /** Free-form labels, echoed in logs (never transcripts). */
  metadata?: Record<string, string>;
}

export interface SessionEndMessage {
  type: 'session.end';
  reason?: string;
}

export interface PingMessage {
  type: 'ping';
  id: number;
  /** The client's clock, in ms, echoed back in `pong` to estimate the clock offset. */
  clientTimeMs: number;
}

/** How much of a response the client has actually played, in ms of agent audio. */
export interface PlaybackPositionMessage {
  type: 'playback.position';
  responseId: string;
  playedMs: number;
}

/** A typed user turn, for text clients and tests: handled like a final transcript. */
export interface InputTextMessage {
  type: 'input.text';
  text: string;
}

/** Change per-session settings mid-call. */
export interface SessionUpdateMessage {
  type: 'session.update';
  emotion?: { enabled?: boolean; disabledChannels?: number[] };
  prosodyIntervalMs?: number;
}

export type ClientMessage =
  | SessionStartMessage
  | SessionEndMessage
  | PingMessage
  | PlaybackPositionMessage
  | InputTextMessage
  | SessionUpdateMessage;

export type ClientMessageType = ClientMessage['type'];

// ---------------------------------------------------------------------------------------------
// Server to client
// ---------------------------------------------------------------------------------------------

interface EventBase {
  sessionId: string;
  /** Session audio time in ms. */
  timeMs: number;
  /**
   * Position of this event in the session's event stream (0, 1, 2, ...), when the server numbers
   * events; a resuming client sends the last one it saw as `lastEventIndex` and drops repeats.
   */
  eventIndex?: number;
}

export interface SessionStartedEvent extends EventBase {
  type: 'session.started';
  protocolVersion: number;
  mode: SessionMode;
  /** Present this in a later `session.start` to resume after a dropped connection. */
  resumeToken: string;
  /** True when this connection resumed an existing session. */
  resumed: boolean;
  /** Number of speaker tracks (1, or 2 for a `separate` stereo session). */
  tracks: number;
  output: { codec: Codec; sampleRateHz: number; frameMs: number };
  /** Set when a resume was asked for but could not be honoured; the session started clean. */
  resumeFailed?: string;
}

export interface SpeechStartedEvent extends EventBase {
  type: 'vad.speech_started';
  track: number;
  /** Start of speech in session audio ms, pre-speech padding included. */
  startMs: number;
}

export interface SpeechStoppedEvent extends EventBase {
  type: 'vad.speech_stopped';
  track: number;
  segmentId: string;
  startMs: number;
  endMs: number;
}

/** Per-frame prosody, averaged over the event interval. */
export interface ProsodyFrame {
  /** Centre of the frame, session ms. */
  timeMs: number;
  /** Fundamental frequency in Hz, or 0 when unvoiced. */
  f0Hz: number;
  voiced: boolean;
  /** RMS energy in dBFS (a full-scale sine is -3.01). */
  energyDb: number;
  zeroCrossingRate: number;
  spectralCentroidHz: number;
}

export interface ProsodyEvent extends EventBase {
  type: 'prosody';
  track: number;
  frames: ProsodyFrame[];
}

export interface TranscriptWord {
  text: string;
  startMs: number;
  endMs: number;
}

export interface TranscriptPartialEvent extends EventBase {
  type: 'transcript.partial';
  track: number;
  segmentId: string;
  /** Text agreed by consecutive decodes; only ever grows within a segment. */
  committed: string;
  /** Latest hypothesis after the committed part; may change. */
  tentative: string;
  /** How far the transcript is behind the audio, in ms. */
  lagMs: number;
}

export interface TranscriptFinalEvent extends EventBase {
  type: 'transcript.final';
  track: number;
  segmentId: string;
  text: string;
  language: string;
  startMs: number;
  endMs: number;
  words?: TranscriptWord[];
  segments?: TranscriptWord[];
  /** Role of the track in a `separate` session. */
  role?: string;
}

export interface ResponseStartedEvent extends EventBase {
  type: 'response.started';
  responseId: string;
  /** The user segment this answers (or `text:<n>` for `input.text`). */
  inReplyTo: string;
  /** Response number carried in the `stream` field of this response's agent audio frames. */
  stream?: number;
}

export interface ResponseTextDeltaEvent extends EventBase {
  type: 'response.text.delta';
  responseId: string;
  delta: string;
}

export interface ResponseCancelledEvent extends EventBase {
  type: 'response.cancelled';
  responseId: string;
  reason: 'barge-in' | 'new-turn' | 'session-end' | 'error';
  /** Agent audio the caller heard before the cut, in ms. */
  playedMs: number;
  /** The part of the reply text that was heard, as kept in the conversation history. */
  playedText: string;
  /** Tells the client to drop any agent audio it has queued for this response. */
  clearAudio: true;
}

/** Per-turn timings, each in ms since the end of the user's speech (wall clock). */
/**
 * Where the time of one turn went, in whole ms, all read on the server's monotonic clock
 * (`performance.now()`) from one origin: the moment the VAD decided the caller's speech had ended
 * (wall time of the decision, not the audio time of the speech end; for typed input, the moment
 * the text arrived). Null where a point was not reached (no audio was sent, typed input has no
 * final).
 *
 * Stages are contiguous and each is the difference of two points rounded from the same origin,
 * so they are never negative and always sum exactly to `voiceToVoiceMs`:
 *
 *   speechEndToFinalMs + finalToLlmFirstTokenMs + llmFirstTokenToTtsFirstAudioMs
 *     + ttsFirstAudioToFirstFrameMs = voiceToVoiceMs
 *
 * (`speechEndToFinalMs` is null for typed input, which then counts as 0 in the sum.)
 *
 * Across the same interval, a second breakdown by kind of time:
 *
 *   modelComputeMs (= asrComputeMs + llmComputeMs + ttsComputeMs) + queueWaitMs
 *     + serverOverheadMs = voiceToVoiceMs
 *
 * Model compute is time inside engine calls on the turn's path: the ASR decode of the final,
 * the LLM from its call to the first sentence TTS can speak (first token and the rest of that
 * sentence), and TTS from its call to the first audio chunk. Queues internal to an engine (the ASR
 * scheduler, llama.cpp's sequence pool, onnxruntime's thread pool) are inside those calls and
 * count as compute until the engines report them. `queueWaitMs` is the waiting the pipeline
 * itself sees (the first spoken sentence waiting behind earlier sentences for the TTS engine).
 * `serverOverheadMs` is what is left: the server's own work (turn-taking, prompt building,
 * encoding, pacing) and event-loop delay between the engine calls.
 */
export interface TurnTimings {
  /** Speech end (VAD decision) to the final transcript reaching turn-taking. */
  speechEndToFinalMs: number | null;
  /** Final transcript to the LLM's first token. */
  finalToLlmFirstTokenMs: number | null;
  /** LLM first token to the first TTS audio chunk (the first sentence's rest, then TTS). */
  llmFirstTokenToTtsFirstAudioMs: number | null;
  /** First TTS audio chunk to the first agent audio frame leaving the server (encode, pacing). */
  ttsFirstAudioToFirstFrameMs?: number | null;
  /** End of the user's speech to the first agent audio frame leaving the server. */
  voiceToVoiceMs: number | null;
  /** Reply start to the LLM's last token (the whole generation, not only the path). */
  llmMs: number | null;
  /** Time spent waiting on TTS chunks, summed over the reply's sentences. */
  ttsMs: number | null;
  /** ASR on the path: speech end to the final (includes the ASR scheduler's queue). */
  asrComputeMs?: number | null;
  /** LLM on the path: its call to the first sentence handed to TTS. */
  llmComputeMs?: number | null;
  /** TTS on the path: its call for the first spoken sentence to its first audio chunk. */
  ttsComputeMs?: number | null;
  /** `asrComputeMs + llmComputeMs + ttsComputeMs`. */
  modelComputeMs?: number | null;
  /** Waits in the pipeline's own queues on the path (see above). */
  queueWaitMs?: number | null;
  /** The server's own time: `voiceToVoiceMs - modelComputeMs - queueWaitMs`, never negative. */
  serverOverheadMs: number | null;
}

export interface ResponseDoneEvent extends EventBase {
  type: 'response.done';
  responseId: string;
  text: string;
  audioMs: number;
  timings: TurnTimings;
}

export type EmotionLabel =
  | 'neutral'
  | 'happy'
  | 'sad'
  | 'angry'
  | 'frustrated'
  | 'anxious'
  | 'uncertain';

export interface EmotionTag {
  label: EmotionLabel;
  score: number;
}

export interface EmotionEvidence {
  /** Voice features relative to the speaker's own baseline (z-scores). */
  voice: Record<string, number>;
  /** Text valence in [-1, 1], or null when there is no text yet. */
  textValence: number | null;
  textModel?: string;
}

export interface EmotionUpdateEvent extends EventBase {
  type: 'emotion.update' | 'emotion.final';
  track: number;
  segmentId: string;
  tags: EmotionTag[];
  /** -1 (calm) .. 1 (excited). */
  arousal: number;
  /** -1 (negative) .. 1 (positive). */
  valence: number;
  uncertain: boolean;
  evidence: EmotionEvidence;
}

export interface CallMetricsEvent extends EventBase {
  type: 'call.metrics' | 'call.summary';
  /** Share of talk time per track, 0..1. */
  talkRatio: number[];
  talkMs: number[];
  talkOverMs: number;
  longestSilenceMs: number;
  /** Mean valence of the customer track over the call so far. */
  customerValence: number | null;
  customerArousal: number | null;
}

export interface ErrorEvent extends EventBase {
  type: 'error';
  code: string;
  message: string;
  /** True when the session goes on after this error. */
  recoverable: boolean;
  /**
   * Bad audio: errors of this code left unsent since the previous one (at most one per code is
   * sent per second of audio, so a broken stream does not flood the client).
   */
  repeated?: number;
}

export interface PongEvent extends EventBase {
  type: 'pong';
  id: number;
  clientTimeMs: number;
  serverTimeMs: number;
}

export interface SessionEndedEvent extends EventBase {
  type: 'session.ended';
  reason: string;
  stats: {
    frames: number;
    bytes: number;
    lostFrames: number;
    reorderedFrames: number;
    audioMs: number;
    wallMs: number;
  };
}

export type ServerEvent =
  | SessionStartedEvent
  | SpeechStartedEvent
  | SpeechStoppedEvent
  | ProsodyEvent
  | TranscriptPartialEvent
  | TranscriptFinalEvent
  | ResponseStartedEvent
  | ResponseTextDeltaEvent
  | ResponseCancelledEvent
  | ResponseDoneEvent
  | EmotionUpdateEvent
  | CallMetricsEvent
  | ErrorEvent
  | PongEvent
  | SessionEndedEvent;

export type ServerEventType = ServerEvent['type'];

/** A server event without the fields the session fills in. */
export type ServerEventBody = ServerEvent extends infer E
  ? E extends ServerEvent
    ? Omit<E, 'sessionId' | 'timeMs'>
    : never
  : never;

/** WebSocket close codes of the protocol (4000-4999 is the application range). */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 4400,
  unauthorized: 4401,
  sessionLimit: 4429,
  durationLimit: 4408,
  internal: 4500,
} as const;
