import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Temporary directories for a test file: `make()` creates one under `os.tmpdir()`; `removeAll()` (call it in
 * `afterEach`, which also runs after a failure) removes every one made so far.
 */
export function tempDirs(prefix = 'kv-wal-'): { make(): Promise<string>; removeAll(): Promise<void> } {
  const made: string[] = [];
  return {
    async make(): Promise<string> {
      const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    async removeAll(): Promise<void> {
      await Promise.all(made.splice(0).map((dir) => fs.promises.rm(dir, { recursive: true, force: true })));
    },
  };
}
