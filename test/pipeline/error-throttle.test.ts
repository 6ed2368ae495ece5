import { describe, expect, it } from 'vitest';
import { ErrorThrottle } from '../../src/pipeline/error-throttle.js';

describe('ErrorThrottle', () => {
  it('sends the first error of a code, counts the rest within a second of audio', () => {
    const throttle = new ErrorThrottle(1000);
    expect(throttle.admit('UT_ERR_OPUS_DECODE', 'bad', 0)).toEqual({
      code: 'UT_ERR_OPUS_DECODE',
      message: 'bad',
    });
    for (let t = 20; t < 1000; t += 20)
      expect(throttle.admit('UT_ERR_OPUS_DECODE', 'bad', t)).toBeUndefined();
    expect(throttle.admit('UT_ERR_OPUS_DECODE', 'bad', 1000)).toEqual({
      code: 'UT_ERR_OPUS_DECODE',
      message: 'bad',
      repeated: 49,
    });
  });

  it('keeps codes apart', () => {
    const throttle = new ErrorThrottle(1000);
    expect(throttle.admit('A', 'a', 0)).toBeDefined();
    expect(throttle.admit('B', 'b', 10)).toBeDefined();
    expect(throttle.admit('A', 'a', 20)).toBeUndefined();
  });
});
