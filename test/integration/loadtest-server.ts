/**
 * An in-process `undertone serve` on fixture models for integration tests (the load tester's, the
 * browser demo's, the client SDK's), so they always run today's sources (no build step). Server and
 * clients share this process: RSS readings cover both, which is fine for checks that compare
 * readings of the same process.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCommand } from '../../src/cli/serve.js';
import type { RunningServer } from '../../src/gateway/server.js';
import { resolveTarget, type Target } from '../../loadtest/src/target.js';

export interface InProcessServer {
  target: Target;
  server: RunningServer;
  stop(): Promise<number>;
}

export interface InProcessServerOptions {
  /** Where fixture models are generated (default: a fresh temporary folder). */
  fixturesDir?: string;
}

/** Starts a server on port 0 with `sets` (`server.resumeGraceMs=0`, ...) and waits until ready. */
export async function startInProcessServer(
  sets: string[] = [],
  options: InProcessServerOptions = {},
): Promise<InProcessServer> {
  const fixturesDir =
    options.fixturesDir ?? mkdtempSync(join(tmpdir(), 'undertone-loadtest-fixtures-'));
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let ready!: (server: RunningServer) => void;
  const listening = new Promise<RunningServer>((resolve) => (ready = resolve));
  const args = [
    '--port',
    '0',
    '--models',
    'fixtures',
    '--log-level',
    'silent',
    '--set',
    `models.fixturesDir=${fixturesDir}`,
  ];
  for (const set of sets) args.push('--set', set);

  const exit = serveCommand(args, { env: {}, stop: stopped, onReady: ready });
  const server = await Promise.race([
    listening,
    exit.then((code) => Promise.reject(new Error(`serve exited ${code}`))),
  ]);
  return {
    target: resolveTarget(server.wsUrl),
    server,
    stop: async () => {
      stop();
      return exit;
    },
  };
}
