/**
 * The shared HTTP pieces of src/core/http: the `Retry-After` parser that openEO calls and
 * downloads both use.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryAfter } from '../../src/core/http/retry-after';

describe('Retry-After', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it('reads delay seconds, as a header string or a number', () => {
    assert.equal(parseRetryAfter('120', now), 120);
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter(1.5, now), 1.5);
  });

  it('reads an HTTP date as the seconds until it, and a past date as no wait', () => {
    assert.equal(parseRetryAfter('Sat, 01 Mar 2025 12:00:30 GMT', now), 30);
    assert.equal(parseRetryAfter('Sat, 01 Mar 2025 11:59:00 GMT', now), 0);
  });

  it('ignores a missing header and junk', () => {
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter({ seconds: 5 }, now), undefined);
  });
});
