import { describe, expect, it } from 'vitest';
import { authorizeHeaders, isValidKey, keyFromHeaders } from '../../src/gateway/auth.js';

const KEYS = ['key-one-123456', 'key-two-654321'];

describe('keyFromHeaders', () => {
  it.each([
    [{ 'x-api-key': 'abc' }, 'abc'],
    [{ 'x-api-key': '  abc  ' }, 'abc'],
    [{ authorization: 'Bearer abc' }, 'abc'],
    [{ authorization: 'bearer   abc ' }, 'abc'],
    [{ 'x-api-key': 'first', authorization: 'Bearer second' }, 'first'],
    [{ authorization: 'Basic abc' }, undefined],
    [{ authorization: 'Bearer a b' }, undefined],
    [{ 'x-api-key': '' }, undefined],
    [{}, undefined],
  ])('%j -> %s', (headers, key) => {
    expect(keyFromHeaders(headers)).toBe(key);
  });
});

describe('isValidKey', () => {
  it('accepts each configured key and nothing else', () => {
    expect(isValidKey('key-one-123456', KEYS)).toBe(true);
    expect(isValidKey('key-two-654321', KEYS)).toBe(true);
    expect(isValidKey('key-one-12345', KEYS)).toBe(false);
    expect(isValidKey('key-one-1234567', KEYS)).toBe(false);
    expect(isValidKey('', KEYS)).toBe(false);
    expect(isValidKey(undefined, KEYS)).toBe(false);
    expect(isValidKey('anything', [])).toBe(false);
  });
});

describe('authorizeHeaders', () => {
  it('is open when auth is off, whatever the headers say', () => {
    expect(authorizeHeaders({ required: false, keys: KEYS }, { 'x-api-key': 'wrong' })).toBe(
      'open',
    );
  });

  it('tells a good, a bad and an absent header key apart', () => {
    const policy = { required: true, keys: KEYS };
    expect(authorizeHeaders(policy, { authorization: 'Bearer key-two-654321' })).toBe('ok');
    expect(authorizeHeaders(policy, { 'x-api-key': 'wrong' })).toBe('bad');
    expect(authorizeHeaders(policy, {})).toBe('absent');
  });
});
