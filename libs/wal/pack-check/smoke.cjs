'use strict';
// Smoke test of the packed @kv/wal with require(): write, close, reopen; then a crash of a real process after an
// acknowledged write (sync 'always'), and the write is found after reopening.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
// By package name on purpose: this runs against the packed package installed in an empty folder.
// eslint-disable-next-line @nx/enforce-module-boundaries
const { openStore, WalError, WalErrorCode } = require('@kv/wal');

async function child(dir) {
  const store = await openStore(dir, { sync: 'always' });
  await store.set('acknowledged', 'durable');
  process.stdout.write('ACK\n');
  // Keep the log busy until the parent kills this process.
  for (let i = 0; ; i++) await store.set(`filler-${i}`, 'x'.repeat(100));
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-wal-smoke-cjs-'));
  try {
    let store = await openStore(dir);
    assert.deepEqual(await store.set('greeting', 'hello'), { applied: true, version: store.get('greeting').version });
    await store.delete('gone');
    await store.close();
    store = await openStore(dir);
    assert.equal(store.get('greeting').value, 'hello');
    assert.equal(store.get('gone'), undefined);
    assert.equal(store.getEntry('gone').tombstone, true);
    await store.close();
    await assert.rejects(store.set('late', 'x'), (error) => error instanceof WalError && error.code === WalErrorCode.Closed);

    const crashDir = path.join(dir, 'crash');
    const writer = spawn(process.execPath, [__filename, 'child', crashDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    const signal = await new Promise((resolve, reject) => {
      writer.stdout.on('data', (chunk) => {
        output += chunk;
        if (output.includes('ACK\n')) writer.kill('SIGKILL');
      });
      writer.on('error', reject);
      writer.on('exit', (code, killedBy) => resolve(killedBy ?? `exit code ${code}`));
    });
    assert.equal(signal, 'SIGKILL');
    const recovered = await openStore(crashDir);
    assert.equal(recovered.get('acknowledged').value, 'durable');
    await recovered.close();
    console.log('smoke.cjs: ok');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

(process.argv[2] === 'child' ? child(process.argv[3]) : main()).catch((error) => {
  console.error(error);
  process.exit(1);
});
