import { collect, spawnScript } from './testing/run-script';

describe('a failed fsync or write ends the process (default onFatal)', () => {
  it.each([
    ['datasync', 'WAL_FSYNC_FAILED'],
    ['write', 'WAL_WRITE_FAILED'],
  ])('a failed %s: exit code 1, one line on stderr, the write never acknowledged', async (op, code) => {
    const { code: exitCode, stdout, stderr } = await collect(spawnScript('fatal-writer.ts', [op]));
    expect(stdout).toBe('ACK before\n');
    expect(exitCode).toBe(1);
    const lines = stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^@kv/wal: fatal ${code}: .*EIO`));
  }, 30_000);
});
