/**
 * Starts a real gateway on 127.0.0.1 with a free port and session test doubles, for the
 * integration tests. Settings are given as `--set` style overrides.
 */
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger, type Logger } from '../../src/log/logger.js';
import type { Engines } from '../../src/pipeline/types.js';
import {
  startServer,
  type RunningServer,
  type StartServerOptions,
} from '../../src/gateway/server.js';
import {
  createSessionTestDoubleFactory,
  unusedEnginesTestDouble,
  type SessionTestDouble,
} from './session-test-double.js';

export interface TestServer {
  server: RunningServer;
  sessions: SessionTestDouble[];
}

export async function startTestServer(
  overrides: Record<string, string | number | boolean> = {},
  options: {
    engines?: Engines | Promise<Engines>;
    log?: Logger;
  } & Partial<StartServerOptions> = {},
): Promise<TestServer> {
  const config = loadConfig({
    env: {},
    overrides: { 'server.host': '127.0.0.1', 'server.port': 0, ...overrides },
  });
  const { createSession, sessions } = createSessionTestDoubleFactory();
  const server = await startServer({
    config,
    engines: unusedEnginesTestDouble,
    createSession,
    log: silentLogger,
    demoDir: null,
    ...options,
  });
  return { server, sessions };
}
