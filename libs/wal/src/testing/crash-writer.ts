/**
 * Child process of the crash test: opens the store in `dir` with sync 'always' and writes from many concurrent
 * writers until it is killed, printing one line per acknowledged write (`S|D key version trial i`).
 *
 * Usage: crash-writer.ts <dir> <writers> <trial>
 */
import { openStore } from '../store';

async function main(): Promise<void> {
  const [dir, writersArg, trial] = process.argv.slice(2);
  const store = await openStore(dir, {
    sync: 'always',
    // Small segments and a low compaction threshold, so that kills also land in rotations and compactions.
    segmentBytesMax: 16 * 1024,
    compactionBytesMin: 48 * 1024,
    compactionFactor: 2,
    // Reported on stderr with a prefix the test recognizes: a torn tail after a kill is expected, not an error.
    logger: { warn: (message, meta) => process.stderr.write(`warning: ${message} ${JSON.stringify(meta)}\n`), info: () => undefined },
  });
  process.stdout.write(`ready ${store.size}\n`);
  await Promise.all(
    Array.from({ length: Number(writersArg) }, async (_, writer) => {
      for (let i = 0; ; i++) {
        const key = `w${writer}-${i % 25}`;
        if (i % 7 === 3) {
          const { version } = await store.delete(key);
          process.stdout.write(`D ${key} ${version} ${trial} ${i}\n`);
        } else {
          const { version } = await store.set(key, crashValue(key, trial, i));
          process.stdout.write(`S ${key} ${version} ${trial} ${i}\n`);
        }
      }
    }),
  );
}

/** The value written by the crash writer for `key` in `trial` at step `i`. */
export function crashValue(key: string, trial: string, i: number): string {
  return `${key}:${trial}:${i}:${'x'.repeat(i % 120)}`;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`crash-writer failed: ${String(error)}\n`);
    process.exit(2);
  });
}
