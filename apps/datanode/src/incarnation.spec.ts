import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INCARNATION_FILE, loadIncarnation } from './incarnation';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kv-incarnation-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('created once with the directory and kept across restarts; a new directory gets a new one', async () => {
  const first = await loadIncarnation(path.join(dir, 'node'));
  expect(first).toMatch(/^[0-9a-f]{16}$/);
  expect(await loadIncarnation(path.join(dir, 'node'))).toBe(first);
  expect(readFileSync(path.join(dir, 'node', INCARNATION_FILE), 'utf8')).toBe(`${first}\n`);
  rmSync(path.join(dir, 'node'), { recursive: true });
  expect(await loadIncarnation(path.join(dir, 'node'))).not.toBe(first);
});

test('a malformed incarnation file stops the node instead of guessing', async () => {
  writeFileSync(path.join(dir, INCARNATION_FILE), 'not an id');
  await expect(loadIncarnation(dir)).rejects.toThrow(/malformed/);
});
