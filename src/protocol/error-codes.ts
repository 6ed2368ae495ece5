/**
 * Stable error codes sent in `error` events. Tests and clients match on these, never on message
 * text. A code is never reused for another meaning.
 */
export const ERROR_CODES = {
  // Protocol misuse and bad input (category: bad-input)
  badJson: 'UT_ERR_BAD_JSON',
  unknownMessage: 'UT_ERR_UNKNOWN_MESSAGE',
  badMessage: 'UT_ERR_BAD_MESSAGE',
  unsupportedVersion: 'UT_ERR_UNSUPPORTED_VERSION',
  badAudioFormat: 'UT_ERR_BAD_AUDIO_FORMAT',
  notStarted: 'UT_ERR_SESSION_NOT_STARTED',
  alreadyStarted: 'UT_ERR_SESSION_ALREADY_STARTED',
  badFrameHeader: 'UT_ERR_BAD_FRAME_HEADER',
  frameTooLarge: 'UT_ERR_FRAME_TOO_LARGE',
  frameSizeMismatch: 'UT_ERR_FRAME_SIZE_MISMATCH',
  opusDecode: 'UT_ERR_OPUS_DECODE',
  nonFiniteSamples: 'UT_ERR_NON_FINITE_SAMPLES',
  sampleRateMismatch: 'UT_ERR_SAMPLE_RATE_MISMATCH',
  frameLoss: 'UT_ERR_FRAME_LOSS',
  queueOverflow: 'UT_ERR_QUEUE_OVERFLOW',
  // Access and limits (category: auth, rate-limit)
  unauthorized: 'UT_ERR_UNAUTHORIZED',
  sessionLimit: 'UT_ERR_SESSION_LIMIT',
  durationLimit: 'UT_ERR_DURATION_LIMIT',
  resumeFailed: 'UT_ERR_RESUME_FAILED',
  // Engines (category: upstream)
  asrFailed: 'UT_ERR_ASR_FAILED',
  llmFailed: 'UT_ERR_LLM_FAILED',
  llmTimeout: 'UT_ERR_LLM_TIMEOUT',
  ttsFailed: 'UT_ERR_TTS_FAILED',
  ttsTimeout: 'UT_ERR_TTS_TIMEOUT',
  modelMissing: 'UT_ERR_MODEL_MISSING',
  modelDownload: 'UT_ERR_MODEL_DOWNLOAD',
  unknownModel: 'UT_ERR_UNKNOWN_MODEL',
  overloaded: 'UT_ERR_OVERLOADED',
  modeNotSupported: 'UT_ERR_MODE_NOT_SUPPORTED',
  internal: 'UT_ERR_INTERNAL',
  /** An emotion weights file (`emotion.weightsFile`, `undertone emotion fit`) is unreadable or malformed. */
  badWeights: 'UT_ERR_BAD_WEIGHTS',
  // HTTP side and boot (gateway)
  notFound: 'UT_ERR_NOT_FOUND',
  methodNotAllowed: 'UT_ERR_METHOD_NOT_ALLOWED',
  bodyTooLarge: 'UT_ERR_BODY_TOO_LARGE',
  notReady: 'UT_ERR_NOT_READY',
  transportUnavailable: 'UT_ERR_TRANSPORT_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];
