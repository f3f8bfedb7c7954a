import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FILLED_FILE, INCARNATION_FILE, loadIncarnation } from './incarnation';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kv-incarnation-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('created once with the directory, not filled until a refill is recorded, and kept across restarts', async () => {
  const node = path.join(dir, 'node');
  const first = await loadIncarnation(node);
  expect(first.incarnation).toMatch(/^[0-9a-f]{16}$/);
  expect(first.filled).toBe(false);
  expect(await loadIncarnation(node)).toMatchObject({ incarnation: first.incarnation, filled: false });
  await first.recordFilled(first.incarnation);
  expect(await loadIncarnation(node)).toMatchObject({ incarnation: first.incarnation, filled: true });
  expect(readFileSync(path.join(node, INCARNATION_FILE), 'utf8')).toBe(`${first.incarnation}\n`);
  rmSync(node, { recursive: true });
  const again = await loadIncarnation(node);
  expect(again.incarnation).not.toBe(first.incarnation);
  expect(again.filled).toBe(false);
});

test('a directory of an older kv (an incarnation, no record of a refill) counts as filled', async () => {
  writeFileSync(path.join(dir, INCARNATION_FILE), '0123456789abcdef\n');
  expect(await loadIncarnation(dir)).toMatchObject({ incarnation: '0123456789abcdef', filled: true });
  expect(readFileSync(path.join(dir, FILLED_FILE), 'utf8')).toBe('0123456789abcdef\n');
});

test('a restored backup whose incarnation was removed starts as a new, unfilled incarnation', async () => {
  writeFileSync(path.join(dir, FILLED_FILE), '0123456789abcdef\n');
  const identity = await loadIncarnation(dir);
  expect(identity.incarnation).not.toBe('0123456789abcdef');
  expect(identity.filled).toBe(false);
});

test('a malformed incarnation file stops the node instead of guessing', async () => {
  writeFileSync(path.join(dir, INCARNATION_FILE), 'not an id');
  await expect(loadIncarnation(dir)).rejects.toThrow(/malformed/);
});
