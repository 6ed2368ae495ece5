// The Undertone demo page: plain DOM on top of the browser SDK, which the server serves as ES
// modules under ./sdk/ (built by client-sdk/scripts/build-browser.mjs).
import {
  BrowserPlayer,
  UndertoneClient,
  createBrowserEncoder,
  startMicCapture,
} from './sdk/browser/index.js';

const $ = (id) => document.getElementById(id);
const ui = {
  url: $('url'),
  mode: $('mode'),
  apiKey: $('api-key'),
  talk: $('talk'),
  status: $('status'),
  transcript: $('transcript'),
  replies: $('replies'),
  audioStatus: $('audio-status'),
  emotions: $('emotions'),
  latency: document.querySelector('#latency tbody'),
  clock: $('clock'),
};
const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
const params = new URLSearchParams(location.search);
ui.url.value = params.get('url') ?? `${scheme}://${location.host}/v1/stream`;
/** `?encoder=wasm` forces the WebAssembly Opus encoder, `?encoder=pcm16` no codec. */
const encoderPreference = ['opus', 'wasm', 'pcm16'].includes(params.get('encoder'))
  ? params.get('encoder')
  : 'opus';

/** Agent audio reaches the speaker as pcm16 at this rate (simplest to play everywhere). */
const OUTPUT = { codec: 'pcm16', sampleRateHz: 16000 };

let call; // { client, mic, encoder, player }
const plots = { emotion: [], pitch: [] };
const stats = { agentFrames: 0, firstAudio: 0 };
/** Debug state for tests and the console; `encoder` is set once a call picks one. */
window.undertoneDemo = { stats, plots, encoder: undefined };

ui.talk.addEventListener('click', () => (call ? hangUp() : talk().catch(fail)));

function setStatus(text, state) {
  ui.status.textContent = text;
  ui.status.dataset.state = state;
}

function fail(err) {
  setStatus(`${err.code ? `${err.code}: ` : ''}${err.message ?? err}`, 'error');
  void hangUp();
}

async function talk() {
  ui.talk.disabled = true;
  setStatus('connecting...', 'connecting');
  const client = new UndertoneClient({ url: ui.url.value, apiKey: ui.apiKey.value || undefined });
  const packets = [];
  const encoder = await createBrowserEncoder({
    prefer: encoderPreference,
    onPacket: (p) => (client.state === 'live' ? client.sendAudio(p.payload, p) : packets.push(p)),
    // After a hang-up the encoder is closed: its late errors are not this call's failure.
    onError: (err) => (call?.encoder === encoder ? fail(err) : undefined),
  });
  call = { client, encoder };
  window.undertoneDemo.encoder = { kind: encoder.kind, format: encoder.format };
  wireEvents(client);

  // The microphone and audio output start inside the click (autoplay rules), before the socket.
  const player = new BrowserPlayer(client, {
    output: OUTPUT,
    onFirstAudio: () => stats.firstAudio++,
  });
  call.player = player;
  await player.start();
  call.mic = await startMicCapture({
    sampleRateHz: encoder.format.sampleRateHz,
    // The worklet may still post a frame or two after a hang-up closed the encoder: drop them.
    onFrame: (samples, captureTimeMs) => {
      if (call?.encoder === encoder) encoder.encode(samples, captureTimeMs);
    },
  });

  const started = await client.start({
    mode: ui.mode.value,
    audio: encoder.format,
    output: OUTPUT,
  });
  for (const p of packets.splice(0)) client.sendAudio(p.payload, p);
  setStatus(
    `live: session ${started.sessionId}, sending ${encoder.format.codec} (${encoder.kind}) at ${encoder.format.sampleRateHz} Hz`,
    'live',
  );
  ui.talk.textContent = 'Hang up';
  ui.talk.dataset.state = 'live';
  ui.talk.disabled = false;
}

async function hangUp() {
  const current = call;
  call = undefined;
  ui.talk.textContent = 'Talk';
  ui.talk.dataset.state = 'idle';
  ui.talk.disabled = false;
  if (!current) return;
  await current.mic?.stop().catch(() => {});
  current.encoder?.close();
  if (current.client.state !== 'closed') await current.client.end('hang up', 5000).catch(() => {});
  await current.player?.stop().catch(() => {});
  if (ui.status.dataset.state !== 'error') setStatus('call ended', 'idle');
}

function wireEvents(client) {
  const segments = new Map();
  const replies = new Map();
  const segmentEl = (id) => {
    let el = segments.get(id);
    if (!el) {
      el = document.createElement('p');
      el.className = 'segment';
      el.innerHTML = '<span class="committed"></span> <span class="tentative"></span>';
      ui.transcript.append(el);
      segments.set(id, el);
    }
    return el;
  };

  client.on('transcript.partial', (e) => {
    const el = segmentEl(e.segmentId);
    el.querySelector('.committed').textContent = e.committed;
    el.querySelector('.tentative').textContent = e.tentative;
  });
  client.on('transcript.final', (e) => {
    const el = segmentEl(e.segmentId);
    el.innerHTML = '';
    const span = document.createElement('span');
    span.className = 'final';
    span.textContent = e.role ? `${e.role}: ${e.text}` : e.text;
    el.append(span);
  });

  client.on('response.started', (e) => {
    const el = document.createElement('p');
    el.className = 'reply';
    el.innerHTML = '<span class="text"></span><span class="meta"></span>';
    ui.replies.append(el);
    replies.set(e.responseId, el);
  });
  client.on('response.text.delta', (e) => {
    const el = replies.get(e.responseId);
    if (el) el.querySelector('.text').textContent += e.delta;
  });
  client.on('response.cancelled', (e) => {
    const el = replies.get(e.responseId);
    if (!el) return;
    el.classList.add('cancelled');
    el.querySelector('.meta').textContent =
      `cut off (${e.reason}) after ${Math.round(e.playedMs)} ms`;
  });
  client.on('response.done', (e) => {
    const el = replies.get(e.responseId);
    if (el) el.querySelector('.meta').textContent = `${(e.audioMs / 1000).toFixed(1)} s of audio`;
    latencyRow(e.responseId).cells[2].textContent = ms(e.timings.voiceToVoiceMs);
    latencyRow(e.responseId).cells[3].textContent = ms(e.timings.llmMs);
    latencyRow(e.responseId).cells[4].textContent = ms(e.timings.ttsMs);
  });
  client.on('agent.audio', () => {
    stats.agentFrames++;
    const playedMs = stats.agentFrames * 20;
    ui.audioStatus.dataset.playedMs = String(playedMs);
    ui.audioStatus.textContent = `agent audio: ${stats.agentFrames} frames received, ${stats.firstAudio} replies started playing`;
  });
  client.on('turn.latency', (l) => {
    latencyRow(l.responseId).cells[1].textContent = ms(l.earLatencyMs);
  });

  client.on('emotion.update', (e) => addEmotion(e, false));
  client.on('emotion.final', (e) => addEmotion(e, true));
  client.on('prosody', (e) => {
    for (const f of e.frames) plots.pitch.push({ t: f.timeMs, f0: f.voiced ? f.f0Hz : 0 });
    if (plots.pitch.length > 3000) plots.pitch.splice(0, plots.pitch.length - 3000);
    schedulePlot();
  });

  client.on('clock', (c) => {
    ui.clock.textContent = `clock offset ${c.offsetMs.toFixed(1)} ms (+/- ${c.errorBoundMs.toFixed(1)}), round trip ${c.rttMs.toFixed(1)} ms`;
  });
  client.on('error', (e) => {
    if (!e.recoverable) setStatus(`${e.code}: ${e.message}`, 'error');
  });
  client.on(
    'disconnected',
    (e) => e.willReconnect && setStatus('connection lost, reconnecting...', 'reconnecting'),
  );
  client.on('resumed', () => setStatus('live again (session resumed)', 'live'));
  client.on('resume-failed', (e) => setStatus(`live in a new session (${e.reason})`, 'live'));
  client.on('closed', (e) => {
    if (call?.client === client) fail(new Error(`connection closed: ${e.reason}`));
  });
}

function latencyRow(responseId) {
  let row = ui.latency.querySelector(`tr[data-response="${CSS.escape(responseId)}"]`);
  if (!row) {
    row = ui.latency.insertRow();
    row.dataset.response = responseId;
    for (let i = 0; i < 5; i++) row.insertCell().textContent = '-';
    row.cells[0].textContent = responseId;
  }
  return row;
}

const ms = (v) => (v === null || v === undefined ? '-' : `${Math.round(v)} ms`);

function addEmotion(e, final) {
  plots.emotion.push({ t: e.timeMs, arousal: e.arousal, valence: e.valence });
  if (final) {
    const li = document.createElement('li');
    const tags = e.tags
      .slice(0, 2)
      .map((t) => `${t.label} ${t.score.toFixed(2)}`)
      .join(', ');
    li.textContent = `${(e.timeMs / 1000).toFixed(1)} s  track ${e.track}: ${tags}${e.uncertain ? ' (uncertain)' : ''}`;
    ui.emotions.prepend(li);
  }
  schedulePlot();
}

let plotPending = false;
function schedulePlot() {
  if (plotPending) return;
  plotPending = true;
  requestAnimationFrame(() => {
    plotPending = false;
    drawEmotion();
    drawPitch();
  });
}

/** The last 30 s of session time, as the x axis. */
function window30(points) {
  const end = points.length ? points[points.length - 1].t : 0;
  return { start: Math.max(0, end - 30_000), end: Math.max(end, 30_000) };
}

function drawEmotion() {
  const canvas = $('emotion-plot');
  const g = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  g.clearRect(0, 0, w, h);
  g.strokeStyle = '#dde1e7';
  g.beginPath();
  g.moveTo(0, h / 2);
  g.lineTo(w, h / 2);
  g.stroke();
  const { start, end } = window30(plots.emotion);
  const x = (t) => ((t - start) / (end - start)) * w;
  const y = (v) => h / 2 - (v * (h - 10)) / 2;
  for (const [key, color] of [
    ['arousal', '#d0483d'],
    ['valence', '#2456d6'],
  ]) {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    plots.emotion
      .filter((p) => p.t >= start)
      .forEach((p, i) => (i ? g.lineTo(x(p.t), y(p[key])) : g.moveTo(x(p.t), y(p[key]))));
    g.stroke();
  }
}

function drawPitch() {
  const canvas = $('pitch-plot');
  const g = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  g.clearRect(0, 0, w, h);
  const { start, end } = window30(plots.pitch);
  const x = (t) => ((t - start) / (end - start)) * w;
  const y = (f0) => h - ((Math.min(400, Math.max(50, f0)) - 50) / 350) * (h - 6) - 3;
  g.fillStyle = '#2c8a4b';
  for (const p of plots.pitch)
    if (p.t >= start && p.f0 > 0) g.fillRect(x(p.t) - 1, y(p.f0) - 1, 2, 2);
}
