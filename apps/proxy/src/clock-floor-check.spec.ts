import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLOCK_FLOOR_RECORD, FileStableStore } from '@kv/quorum';
import { clockFloorLost } from './clock-floor-check';

describe('clockFloorLost', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kv-proxy-floor-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a new DATA_DIR lost nothing; one the proxy ran in lost its floor only when the record is missing', async () => {
    const stable = new FileStableStore(dir);
    const hintDir = path.join(dir, 'hints');
    expect(await clockFloorLost(stable, hintDir)).toBe(false);
    mkdirSync(hintDir);
    expect(await clockFloorLost(stable, hintDir)).toBe(true);
    await stable.write(CLOCK_FLOOR_RECORD, '1700000000000\n');
    expect(await clockFloorLost(stable, hintDir)).toBe(false);
  });
});
