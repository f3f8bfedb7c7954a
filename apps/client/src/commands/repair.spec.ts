import type { RepairStatus } from '@kv/protocol';
import { runCli } from '../testing/run-cli';
import { formatRepair } from './repair';

const STATUS: RepairStatus = {
  state: 'done',
  rangesDone: 384,
  rangesTotal: 384,
  rangesFailed: 0,
  differences: 45,
  repaired: 45,
  purged: 3,
  bytes: 1650,
  keyRange: null,
  startedAt: 1,
  finishedAt: 2,
};

describe('kv repair', () => {
  test('the summary names what a round compared, found and did', () => {
    expect(formatRepair(STATUS)).toBe(
      'repair done: 384/384 ranges of the whole ring compared, 45 keys differed, 45 repaired, 3 tombstones purged, 1650 bytes written',
    );
    expect(formatRepair({ ...STATUS, state: 'failed', rangesFailed: 2, keyRange: '0:99', error: 'the coordinator is stopping' })).toBe(
      'repair failed (the coordinator is stopping): 384/384 ranges of key range 0:99 compared, 2 not fully compared (a replica did not answer), ' +
        '45 keys differed, 45 repaired, 3 tombstones purged, 1650 bytes written',
    );
  });

  test('usage errors exit 2 before anything is sent', async () => {
    for (const args of [
      ['repair', '--key-range', '1-2'],
      ['repair', '--key-range', '0:4294967296'],
      ['repair', '--wait-timeout', '5'],
    ]) {
      const run = await runCli(['--server', 'http://127.0.0.1:1', ...args]);
      expect(run.code).toBe(2);
    }
  });
});
