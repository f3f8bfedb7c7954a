// Smoke test of the packed @kv/protocol through ESM import, run by scripts/pack-check.sh in a folder where the tarball is
// installed. Named imports of a CommonJS package only work if Node can detect its exports, which is what this checks.
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  BATCH_OPS_MAX,
  ErrorCode,
  HybridClock,
  KEY_BYTES_MAX,
  KvClient,
  VALUE_BYTES_MAX_DEFAULT,
  encodeKey,
  isVersion,
  parseInternalBatch,
  parseQuorumParam,
  validateValue,
} from '@kv/protocol';

assert.equal(KEY_BYTES_MAX, 1024);
assert.equal(VALUE_BYTES_MAX_DEFAULT, 1048576);
assert.equal(BATCH_OPS_MAX, 1000);

const clock = new HybridClock({ clock: Date, clockId: 'proxy', floorMs: Date.now() + 10_000 });
const version = clock.next();
assert.ok(isVersion(version));
assert.ok(clock.lastMs >= clock.floorMs);

assert.equal(encodeKey('a/b?c#d e'), 'a%2Fb%3Fc%23d%20e');
assert.equal(parseQuorumParam('2', 3, 'w'), 2);
assert.throws(() => parseQuorumParam('4', 3, 'w'), { code: ErrorCode.BadRequest, message: 'w must be an integer from 1 to 3, got "4"' });
assert.throws(() => validateValue('x'.repeat(11), 10), { code: ErrorCode.TooLarge, status: 413 });

const ops = parseInternalBatch({ ops: [['s', 'k', 'v', version], ['g', '']] }, { valueBytesMax: 10 });
assert.deepEqual(ops[0], ['s', 'k', 'v', version]);
assert.equal(ops[1].op, 'invalid');
assert.equal(ops[1].error.code, ErrorCode.InvalidKey);

// One real round trip through axios, installed as the package's dependency.
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ key: decodeURIComponent(req.url.slice(4)), value: 'v', version }));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const client = new KvClient({ baseUrl: `http://127.0.0.1:${server.address().port}`, timeoutMs: 2000 });
try {
  assert.deepEqual(await client.get('a/b c'), { key: 'a/b c', value: 'v', version });
} finally {
  client.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

console.log(`smoke.mjs ok: ${version}`);
