import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(() => loadConfig({ env: {}, overrides: { 'server.port': '70000' } })).toThrow(
      /server\.port/,
    );
    expect(() => loadConfig({ env: {}, overrides: { 'nope.x': '1' } })).toThrow(
      /nope\.x \(from --set nope\.x\): no such setting/,
    );
  });

  it('rejects conflicting options', () => {
    expect(() => loadConfig({ env: {}, overrides: { 'server.authRequired': true } })).toThrow(
      /apiKeys/,
    );
  });

  it('maps nested camelCase paths to upper snake env names', () => {
    expect(settingEnvName(['asr', 'remote', 'url'])).toBe('UNDERTONE_ASR_REMOTE_URL');
    expect(settingEnvName(['turn', 'bargeInMinMs'])).toBe('UNDERTONE_TURN_BARGE_IN_MIN_MS');
  });

  it('names the source of range and enum errors too', () => {
    expect(() => loadConfig({ env: {}, overrides: { 'vad.activationThreshold': '2' } })).toThrow(
      /vad\.activationThreshold \(from --set vad\.activationThreshold\): Too big/,
    );
    expect(() =>
      loadConfig({
        env: {},
        overrides: { 'server.port': '70000' },
        overrideOrigins: { 'server.port': '--port' },
      }),
    ).toThrow(/server\.port \(from --port\)/);
    expect(() => loadConfig({ env: { UNDERTONE_SESSION_MODE: 'karaoke' } })).toThrow(
      /session\.mode \(from UNDERTONE_SESSION_MODE\)/,
    );
  });

  it('rejects config files that are not an object of known settings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ut-config-'));
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    expect(() => loadConfig({ env: {}, file: write('array.json', '[1,2]') })).toThrow(
      /must hold a JSON object/,
    );
    expect(() =>
      loadConfig({ env: {}, file: write('typo.json', '{"server":{"prot":9000}}') }),
    ).toThrow(/server\.prot \(from .*typo\.json\): no such setting/);
    expect(() =>
      loadConfig({ env: {}, file: write('range.json', '{"vad":{"activationThreshold":2}}') }),
    ).toThrow(/vad\.activationThreshold \(from .*range\.json\)/);
    expect(
      loadConfig({ env: {}, file: write('ok.json', '{"server":{"port":9001}}') }).server.port,
    ).toBe(9001);
  });

  it('takes lists as JSON arrays or comma-separated text', () => {
    const json = loadConfig({
      env: {},
      overrides: { 'server.apiKeys': '["secretkey1","secretkey2"]' },
    });
    expect(json.server.apiKeys).toEqual(['secretkey1', 'secretkey2']);
    expect(loadConfig({ env: {}, overrides: { 'server.apiKeys': '[]' } }).server.apiKeys).toEqual(
      [],
    );
    expect(
      loadConfig({ env: { UNDERTONE_SERVER_API_KEYS: 'secretkey1, secretkey2' } }).server.apiKeys,
    ).toEqual(['secretkey1', 'secretkey2']);
  });
});
