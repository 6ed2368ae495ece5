/**
 * The SDK as a user imports it: by package name, through the `exports` of client-sdk/package.json
 * (compiled by `npm run build`, which `npm ci` runs).
 */
import { describe, expect, it } from 'vitest';

describe('@undertone/client package exports', () => {
  it('resolves the core and the Node entry by name', async () => {
    const core = await import('@undertone/client');
    const node = await import('@undertone/client/node');
    expect(typeof core.UndertoneClient).toBe('function');
    expect(typeof core.JitterBuffer).toBe('function');
    expect(node.nodeSocketFactory).toBeDefined();
    expect(typeof node.readWavFile).toBe('function');
    expect(typeof node.streamAudio).toBe('function');
  });
});
