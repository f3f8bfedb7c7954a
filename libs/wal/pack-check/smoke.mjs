// Smoke test of the packed @kv/wal with import: named exports, a store on the real disk and one in memory.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, PowerLossFileSystem, Wal, WalErrorCode, RECORD_KEY_BYTES_MAX } from '@kv/wal';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-wal-smoke-mjs-'));
try {
  const store = await openStore(dir, { sync: 'always' });
  const results = await store.apply([
    { op: 'set', key: 'a', value: '1', version: '0001' },
    { op: 'set', key: 'a', value: 'older', version: '0000' },
  ]);
  assert.deepEqual(results, [
    { applied: true, version: '0001' },
    { applied: false, version: '0001' },
  ]);
  assert.equal(store.get('a').value, '1');
  assert.equal(store.size, 1);
  await store.close();

  const memory = new PowerLossFileSystem({ seed: 7 });
  const inMemory = await openStore('/virtual/store', { fs: memory });
  await inMemory.set('k', 'v');
  await inMemory.close();
  const afterPowerCut = await openStore('/virtual/store', { fs: memory.powerCut() });
  assert.equal(afterPowerCut.get('k').value, 'v');
  await afterPowerCut.close();

  assert.equal(typeof Wal.open, 'function');
  assert.equal(WalErrorCode.Corrupt, 'WAL_CORRUPT');
  assert.equal(RECORD_KEY_BYTES_MAX, 4096);
  console.log('smoke.mjs: ok');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
