import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelsCommand } from '../../src/cli/models-command.js';

describe('undertone models', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'undertone-cli-models-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates the fixtures into the given folder', async () => {
    const lines: string[] = [];
    expect(await modelsCommand(['fixtures', dir], (l) => lines.push(l))).toBe(0);
    expect(lines).toEqual([
      `whisper-tiny-random: ${join(dir, 'whisper-tiny-random')}`,
      `llama-tiny-random: ${join(dir, 'llama-tiny-random')}`,
      `mms-tts-tiny-random: ${join(dir, 'mms-tts-tiny-random')}`,
    ]);
  });

  it('lists the manifest with presence and defaults', async () => {
    const lines: string[] = [];
    expect(await modelsCommand(['list', '--dir', join(dir, 'cache')], (l) => lines.push(l))).toBe(
      0,
    );
    expect(lines[0]).toMatch(/^ID\s+KIND\s+ORIGIN\s+STATUS/);
    expect(lines.find((l) => l.startsWith('whisper-base.en'))).toMatch(/missing.*default/);
    expect(lines.find((l) => l.startsWith('qwen2.5-0.5b-instruct-gguf'))).toContain(
      'Qwen/Qwen2.5-0.5B-Instruct-GGUF',
    );
  });

  it('exits 1 with the coded error when the hub is unreachable', async () => {
    const closed = createServer();
    const port = await new Promise<number>((r) =>
      closed.listen(0, '127.0.0.1', () => r((closed.address() as AddressInfo).port)),
    );
    await new Promise((r) => closed.close(r));
    const endpoint = `http://127.0.0.1:${port}`;
    const code = await modelsCommand([
      'pull',
      'whisper-tiny.en',
      '--dir',
      join(dir, 'cache'),
      '--endpoint',
      endpoint,
    ]);
    expect(code).toBe(1);
  });

  it('exits 2 on an unknown subcommand', async () => {
    expect(await modelsCommand(['frobnicate'])).toBe(2);
  });
});
