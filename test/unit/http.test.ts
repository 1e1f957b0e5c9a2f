/**
 * The shared HTTP pieces of src/core/http: the `Retry-After` parser that openEO calls and
 * downloads both use, and requests with a timeout and their one error vocabulary (on a local
 * server).
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpError, httpJson, isHttpStatus } from '../../src/core/http/request';
import { parseRetryAfter } from '../../src/core/http/retry-after';
import { describeFailure, isTransient } from '../../src/core/openeo/errors';

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

describe('HTTP requests with a timeout (httpJson)', () => {
  let server: Server;
  let base: string;
  /** Requests the server got and never answered, ended after the tests. */
  const hanging: ServerResponse[] = [];

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') res.writeHead(200, { 'content-type': 'application/json' }).end('{"versions":[1]}');
      else if (req.url === '/busy')
        res
          .writeHead(503, { 'content-type': 'application/json', 'retry-after': '7' })
          .end('{"code":"ServiceUnavailable","message":"try later"}');
      else if (req.url === '/gateway')
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad gateway</body></html>');
      else if (req.url === '/page') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a page</html>');
      else if (req.url === '/slow') hanging.push(res);
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const res of hanging) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  /** The HttpError a request fails with. */
  async function failure(url: string, timeoutMs = 5_000): Promise<HttpError> {
    try {
      await httpJson(url, { timeoutMs });
    } catch (err) {
      assert.ok(err instanceof HttpError, String(err));
      return err;
    }
    assert.fail(`${url} did not fail`);
  }

  it('returns the JSON of a 2xx answer', async () => {
    assert.deepEqual(await httpJson(`${base}/ok`, { timeoutMs: 5_000 }), { versions: [1] });
  });

  it('names the URL, the status and the openEO error of a non-2xx answer, with its Retry-After', async () => {
    const err = await failure(`${base}/busy`);
    assert.equal(err.problem, 'status');
    assert.equal(err.message, `${base}/busy answered HTTP 503: ServiceUnavailable: try later`);
    assert.equal(err.status, 503);
    assert.equal(err.retryAfterSeconds, 7);
    assert.ok(err.transient);
    // Read like any failed openEO call.
    const described = describeFailure(err);
    assert.deepEqual(
      [described.status, described.code, described.retryAfterSeconds, isTransient(described)],
      [503, 'HTTP503', 7, true],
    );
  });

  it("leaves a gateway's web page out of the message, and keeps a short text", async () => {
    assert.equal((await failure(`${base}/gateway`)).message, `${base}/gateway answered HTTP 502`);
    const missing = await failure(`${base}/nothing`);
    assert.equal(missing.message, `${base}/nothing answered HTTP 404: no such thing`);
    assert.ok(isHttpStatus(missing, 404));
    assert.ok(!missing.transient);
  });

  it('says when a 2xx answer is not JSON, with its content type', async () => {
    const err = await failure(`${base}/page`);
    assert.equal(err.problem, 'not-json');
    assert.equal(err.message, `${base}/page did not answer JSON (text/html)`);
    assert.ok(!isTransient(describeFailure(err)), 'a page instead of JSON is not retried');
  });

  it('names the network code of a host that does not answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x`;
    await new Promise((resolve) => closed.close(resolve));
    const err = await failure(url);
    assert.equal(err.problem, 'unreachable');
    assert.equal(err.message, `${url} did not answer (ECONNREFUSED)`);
    assert.ok(err.transient);
    assert.equal(describeFailure(err).code, 'ECONNREFUSED');
  });

  it('keeps a request fetch refuses to send (port 9) without a network code: an openEO call does not retry it', async () => {
    const err = await failure('http://127.0.0.1:9/x');
    assert.equal(err.message, 'http://127.0.0.1:9/x did not answer (bad port)');
    assert.equal(err.code, undefined);
    assert.ok(!isTransient(describeFailure(err)));
  });

  it('gives up after the timeout, saying so', async () => {
    const err = await failure(`${base}/slow`, 200);
    assert.equal(err.problem, 'timeout');
    assert.equal(err.message, `${base}/slow did not answer (timed out after 0.2 s)`);
    assert.ok(err.transient);
    assert.ok(isTransient(describeFailure(err)));
  });
});
