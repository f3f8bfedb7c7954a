/**
 * Child process of the fatal-error test: opens a store on an in-memory file system with the default `onFatal`, makes
 * the next `<op>` (datasync or write) fail, writes, and reports on stdout whether the write was acknowledged.
 *
 * Usage: fatal-writer.ts <datasync|write>
 */
import { PowerLossFileSystem } from '../power-loss-file-system';
import { openStore } from '../store';

async function main(): Promise<void> {
  const op = process.argv[2] === 'write' ? 'write' : 'datasync';
  const fs = new PowerLossFileSystem();
  const store = await openStore('/data', { fs });
  await store.set('before', 'ok');
  process.stdout.write('ACK before\n');
  fs.failNext(op);
  store.set('k', 'never acknowledged').then(
    () => process.stdout.write('ACK k\n'),
    (error: unknown) => process.stdout.write(`REJECTED k ${String(error)}\n`),
  );
  setTimeout(() => {
    process.stdout.write('STILL RUNNING\n');
    process.exit(0);
  }, 10_000);
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal-writer failed: ${String(error)}\n`);
  process.exit(2);
});
