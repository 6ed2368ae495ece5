/**
 * One timeline line per event for `undertone talk` (human output). Chatty events (prosody, pongs,
 * emotion updates, text deltas) print nothing; the reply text shows once, with `response.done`.
 */
import type { ServerEvent, TurnLatency } from '../../client-sdk/src/node/index.js';

const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
const pad = (type: string) => type.padEnd(20);
const quote = (text: string) => JSON.stringify(text.trim());

/** The timeline text of an event, or undefined for events the timeline skips. */
export function formatEvent(e: ServerEvent, replyText?: string): string | undefined {
  const track = 'track' in e && e.track > 0 ? ` [track ${e.track}]` : '';
  switch (e.type) {
    case 'session.started':
      return `${pad(e.type)}${e.sessionId} mode=${e.mode}${e.resumed ? ' (resumed)' : ''} output=${e.output.codec}/${e.output.sampleRateHz}`;
    case 'vad.speech_started':
      return `${pad(e.type)}at ${s(e.startMs)}${track}`;
    case 'vad.speech_stopped':
      return `${pad(e.type)}${s(e.startMs)}-${s(e.endMs)}${track}`;
    case 'transcript.partial':
      return `${pad(e.type)}${quote(e.committed)} + ${quote(e.tentative)}${track}`;
    case 'transcript.final':
      return `${pad(e.type)}${quote(e.text)}${e.role ? ` (${e.role})` : track}`;
    case 'response.started':
      return `${pad(e.type)}${e.responseId} in reply to ${e.inReplyTo}`;
    case 'response.done': {
      const v2v =
        e.timings.voiceToVoiceMs === null
          ? ''
          : `, voice-to-voice ${Math.round(e.timings.voiceToVoiceMs)} ms`;
      return `${pad(e.type)}${quote(replyText ?? e.text)} (audio ${s(e.audioMs)}${v2v})`;
    }
    case 'response.cancelled':
      return `${pad(e.type)}${e.responseId} (${e.reason}, heard ${s(e.playedMs)})`;
    case 'emotion.final': {
      const top = e.tags[0];
      const tag = top ? `${top.label} ${top.score.toFixed(2)}` : 'none';
      return `${pad(e.type)}${tag} arousal ${e.arousal.toFixed(2)} valence ${e.valence.toFixed(2)}${e.uncertain ? ' (uncertain)' : ''}${track}`;
    }
    case 'call.summary':
      return `${pad(e.type)}talk ${e.talkRatio.map((r) => r.toFixed(2)).join('/')}, overlap ${s(e.talkOverMs)}`;
    case 'error':
      return `${pad(e.type)}${e.code}: ${e.message}${e.recoverable ? ' (recoverable)' : ''}`;
    case 'session.ended':
      return `${pad(e.type)}${e.reason}: ${e.stats.frames} frames, ${s(e.stats.audioMs)} audio, ${e.stats.lostFrames} lost`;
    default:
      return undefined;
  }
}

export function formatLatency(l: TurnLatency): string {
  return `${pad('turn.latency')}${Math.round(l.earLatencyMs)} ms from end of speech to first audio played (${l.responseId})`;
}
