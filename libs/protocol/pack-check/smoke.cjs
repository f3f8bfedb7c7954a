'use strict';
// Smoke test of the packed @kv/protocol through require(), run by scripts/pack-check.sh in a folder where the tarball is
// installed: it exercises the published build and its declared dependency (axios), not the workspace sources.
const assert = require('node:assert/strict');
const http = require('node:http');
const {
  ErrorCode,
  HybridClock,
  KvClient,
  KvError,
  NodeClient,
  compareVersions,
  decodeKey,
  decodeVersion,
  encodeVersion,
  errorBody,
  errorResponse,
  isKvError,
  isOutcomeUnknown,
  parsePublicBatch,
  proxyErrorsOf,
  statusOf,
  validateKey,
} = require('@kv/protocol');

assert.match(require.resolve('@kv/protocol'), /node_modules[\\/]@kv[\\/]protocol[\\/]index\.js$/);

// Versions: fixed-width, string order is version order, strictly increasing even when the wall clock steps back.
const parts = { ms: 0x192f1a2b3c4, counter: 7, clockId: 'proxy' };
assert.equal(encodeVersion(parts), '0192f1a2b3c4-0007-proxy');
assert.deepEqual(decodeVersion('0192f1a2b3c4-0007-proxy'), parts);
let now = 1_730_000_000_000;
const clock = new HybridClock({ clock: { now: () => now }, clockId: 'proxy' });
const versions = [];
for (const step of [0, 5, -1000, 0, 3]) {
  now += step;
  versions.push(clock.next());
}
for (let i = 1; i < versions.length; i++) assert.ok(compareVersions(versions[i - 1], versions[i]) < 0, versions.join(' '));

// Validation throws KvError with the contract's codes and statuses.
assert.equal(decodeKey('a%2Fb%20c'), 'a/b c');
assert.throws(() => decodeKey('%zz'), (err) => err instanceof KvError && err.code === 'KV_INVALID_KEY' && err.status === 400);
assert.throws(() => validateKey(''), (err) => isKvError(err, ErrorCode.InvalidKey));
assert.throws(() => parsePublicBatch({ ops: 'x' }, { valueBytesMax: 10 }), (err) => isKvError(err, ErrorCode.BadRequest));
assert.equal(statusOf(ErrorCode.QuorumFailed), 503);

// Error bodies are exactly the wire format.
assert.equal(
  JSON.stringify(errorBody(KvError.quorumFailed('write', { acks: 1, required: 2 }))),
  '{"error":{"code":"KV_QUORUM_FAILED","message":"write quorum not reached: 1 of 2 replicas acknowledged"},"acks":1,"required":2}',
);
assert.deepEqual(errorResponse(new Error('secret')).body, { error: { code: 'KV_INTERNAL', message: 'internal error' } });

// The clients construct, reach nothing on a closed port, and say so.
(async () => {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  const client = new KvClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
  const node = new NodeClient({ baseUrl: `http://127.0.0.1:${port}` });
  try {
    await assert.rejects(client.get('k'), (err) => {
      assert.equal(err.code, 'KV_UNAVAILABLE');
      assert.match(err.message, new RegExp(`^cannot reach http://127\\.0\\.0\\.1:${port}: `));
      return true;
    });
    await assert.rejects(node.batch([['g', 'k']]), (err) => isKvError(err, ErrorCode.Unavailable));
  } finally {
    client.close();
    node.close();
  }

  // Several proxies: a write whose connection was refused goes to the next one.
  const proxy = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ key: 'k', version: '0192f1a2b3c4-0000-proxy', acks: 2 }));
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const up = `http://127.0.0.1:${proxy.address().port}`;
  const failover = new KvClient({ baseUrl: `http://127.0.0.1:${port},${up}`, timeoutMs: 2000 });
  try {
    assert.deepEqual(failover.urls, [`http://127.0.0.1:${port}`, up]);
    assert.equal((await failover.set('k', 'v')).acks, 2);
    assert.equal(failover.url, up);
    const closed = new Promise((resolve) => proxy.close(resolve));
    proxy.closeAllConnections();
    await closed;
    await assert.rejects(failover.get('k'), (err) => {
      assert.equal(err.code, 'KV_UNAVAILABLE');
      assert.equal(isOutcomeUnknown(err), false);
      assert.equal(proxyErrorsOf(err).length, 2);
      return true;
    });
  } finally {
    failover.close();
  }
  assert.throws(() => new KvClient({ baseUrl: [up, up] }), TypeError);
  console.log(`smoke.cjs ok: versions ${versions[0]} .. ${versions[versions.length - 1]}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
