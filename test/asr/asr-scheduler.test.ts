import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAsrScheduler } from '../../src/asr/asr-scheduler.js';
import { createOpenAiRemoteAsr } from '../../src/asr/engines/openai-remote.js';
import { registry } from '../../src/metrics/metrics.js';
import {
  startTranscriptionsTestDouble,
  type TranscriptionsTestDouble,
} from './openai-transcriptions-test-double.js';

const audio = new Float32Array(1600).fill(0.1);
const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 2));
};
const metricValue = async (name: string, labels: Record<string, string> = {}) => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as {
    value: number;
    labels: Record<string, string | number>;
    metricName?: string;
  }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((a, v) => a + v.value, 0);
};

describe('asr scheduler', () => {
  let server: TranscriptionsTestDouble;
  beforeAll(async () => {
    server = await startTranscriptionsTestDouble();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.mode = 'gated';
    server.requests = [];
  });

  const served = () => server.requests.map((r) => r.fields.prompt?.[0]);

  it('serves finals before partials and sheds an older partial of the same stream', async () => {
    const scheduler = createAsrScheduler({
      engine: createOpenAiRemoteAsr({ url: server.url }),
      batch: false,
    });
    const shedBefore = await metricValue('undertone_asr_partials_shed_total');
    const first = scheduler.transcribe(audio, {
      prompt: 'p0',
      priority: 'partial',
      streamKey: 'a',
    });
    await until(() => server.heldCount === 1);

    const olderA = scheduler.transcribe(audio, {
      prompt: 'p1',
      priority: 'partial',
      streamKey: 'a',
    });
    const partialB = scheduler.transcribe(audio, {
      prompt: 'p2',
      priority: 'partial',
      streamKey: 'b',
    });
    const newerA = scheduler.transcribe(audio, {
      prompt: 'p3',
      priority: 'partial',
      streamKey: 'a',
    });
    const finalC = scheduler.transcribe(audio, { prompt: 'f4', priority: 'final', streamKey: 'c' });
    expect(await olderA).toBeNull();
    expect(scheduler.queueDepth).toBe(3);
    expect(await metricValue('undertone_queue_depth', { stage: 'asr' })).toBe(3);

    for (let i = 0; i < 4; i++) {
      await until(() => server.heldCount === 1);
      server.releaseOne();
    }
    expect((await first)?.text).toBe('p0');
    expect((await finalC)?.text).toBe('f4');
    expect((await newerA)?.text).toBe('p3');
    expect((await partialB)?.text).toBe('p2');
    expect(served()).toEqual(['p0', 'f4', 'p3', 'p2']);
    expect(scheduler.shedCount).toBe(1);
    expect((await metricValue('undertone_asr_partials_shed_total')) - shedBefore).toBe(1);
    scheduler.close();
  });

  it('sheds the oldest partials when the queue is full but never a final', async () => {
    const scheduler = createAsrScheduler({
      engine: createOpenAiRemoteAsr({ url: server.url }),
      maxQueue: 2,
      batch: false,
    });
    const busy = scheduler.transcribe(audio, { prompt: 'busy', priority: 'final' });
    await until(() => server.heldCount === 1);
    const finals = [1, 2, 3].map((i) =>
      scheduler.transcribe(audio, { prompt: `f${i}`, priority: 'final' }),
    );
    const partials = [1, 2].map((i) =>
      scheduler.transcribe(audio, { prompt: `p${i}`, priority: 'partial', streamKey: `s${i}` }),
    );
    expect(await partials[0]).toBeNull();
    expect(await partials[1]).toBeNull();
    expect(scheduler.queueDepth).toBe(3);

    for (let i = 0; i < 4; i++) {
      await until(() => server.heldCount === 1);
      server.releaseOne();
    }
    expect((await busy)?.text).toBe('busy');
    expect((await Promise.all(finals)).map((r) => r?.text)).toEqual(['f1', 'f2', 'f3']);
    expect(scheduler.shedCount).toBe(2);
    scheduler.close();
  });

  it('hands waiting requests over as one batch up to maxBatch', async () => {
    server.mode = 'verbose';
    const engine = createOpenAiRemoteAsr({ url: server.url });
    const sizes: number[] = [];
    const batching = {
      ...engine,
      name: 'batch-recorder',
      transcribe: engine.transcribe,
      close: engine.close,
      async transcribeBatch(requests: { audio: Float32Array }[]) {
        sizes.push(requests.length);
        return Promise.all(requests.map((r) => engine.transcribe(r.audio)));
      },
    };
    const scheduler = createAsrScheduler({ engine: batching, maxBatch: 3 });
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(() => scheduler.transcribe(audio, { priority: 'final' })),
    );
    expect(results.every((r) => r?.text === 'hello there world')).toBe(true);
    // The first request starts alone; the four that queued behind it go as batches of 3 and 1.
    expect(sizes).toEqual([3]);
    scheduler.close();
  });

  it('rejects a queued request whose signal aborts, and passes engine errors through', async () => {
    const scheduler = createAsrScheduler({ engine: createOpenAiRemoteAsr({ url: server.url }) });
    const busy = scheduler.transcribe(audio, { prompt: 'busy' });
    await until(() => server.heldCount === 1);
    const controller = new AbortController();
    const queued = scheduler
      .transcribe(audio, { prompt: 'queued', signal: controller.signal })
      .catch((e: unknown) => e);
    controller.abort(new Error('left'));
    expect(((await queued) as Error).message).toBe('left');
    expect(scheduler.queueDepth).toBe(0);
    server.releaseOne();
    await busy;

    server.mode = 'error';
    const failed = await scheduler.transcribe(audio).catch((e: unknown) => e);
    expect((failed as { code?: string }).code).toBe('UT_ERR_ASR_FAILED');
    scheduler.close();
  });
});
