import { describe, expect, it } from 'vitest';
import { loadConfig, settingEnvName } from '../../src/config/index.js';

describe('loadConfig', () => {
  it('returns frozen defaults with no sources', () => {
    const cfg = loadConfig({ env: {} });
    expect(cfg.server.port).toBe(8080);
    expect(Object.isFrozen(cfg.server)).toBe(true);
  });

  it('lets env override defaults and flags override env', () => {
    const env = { UNDERTONE_SERVER_PORT: '9000', UNDERTONE_VAD_ACTIVATION_THRESHOLD: '0.6' };
    expect(loadConfig({ env }).server.port).toBe(9000);
    expect(loadConfig({ env }).vad.activationThreshold).toBe(0.6);
    expect(loadConfig({ env, overrides: { 'server.port': '0' } }).server.port).toBe(0);
  });

  it('names the setting and the source of a bad value', () => {
    expect(() => loadConfig({ env: { UNDERTONE_SERVER_PORT: 'abc' } })).toThrow(
      /server\.port \(from UNDERTONE_SERVER_PORT\): expected a number/,
    );
    expect(() => loadConfig({ env: {}, overrides: { 'server.port': '70000' } })).toThrow(/server\.port/);
    expect(() => loadConfig({ env: {}, overrides: { 'nope.x': '1' } })).toThrow(/nope\.x: no such setting/);
  });

  it('rejects conflicting options', () => {
    expect(() => loadConfig({ env: {}, overrides: { 'server.authRequired': true } })).toThrow(/apiKeys/);
  });

  it('maps nested camelCase paths to upper snake env names', () => {
    expect(settingEnvName(['asr', 'remote', 'url'])).toBe('UNDERTONE_ASR_REMOTE_URL');
    expect(settingEnvName(['turn', 'bargeInMinMs'])).toBe('UNDERTONE_TURN_BARGE_IN_MIN_MS');
  });
});
