// Type-checked (not run) usage of the packed @kv/wal: the public types must be usable from TypeScript.
// By package name on purpose: this is checked against the packed package installed in an empty folder.
// eslint-disable-next-line @nx/enforce-module-boundaries
import {
  openStore,
  isWalError,
  PowerLossFileSystem,
  Wal,
  WalError,
  WalErrorCode,
  type Entry,
  type FileSystem,
  type RecoveryReport,
  type Store,
  type StoreOp,
  type StoreOptions,
  type StoredValue,
  type SyncInfo,
  type WalLogger,
  type WriteResult,
} from '@kv/wal';

const logger: WalLogger = { warn: () => undefined, info: () => undefined };
const fs: FileSystem = new PowerLossFileSystem({ seed: 1 });
const options: StoreOptions = {
  sync: 'always',
  segmentBytesMax: 64 * 1024 * 1024,
  compactionFactor: 4,
  fs,
  logger,
  onSync: (info: SyncInfo) => void info.durationMs,
  onFatal: (error: WalError) => {
    throw error;
  },
};

export async function typedUsage(dir: string): Promise<number> {
  const store: Store = await openStore(dir, options);
  const written: WriteResult = await store.set('key', 'value');
  const ops: StoreOp[] = [
    { op: 'set', key: 'a', value: '1', version: written.version },
    { op: 'delete', key: 'b' },
  ];
  const results: WriteResult[] = await store.apply(ops);
  const value: StoredValue | undefined = store.get('key');
  const entry: Entry | undefined = store.getEntry('b');
  const tombstone: boolean = entry?.tombstone ?? false;
  for (const [key, stored] of store.entries()) void [key.length, stored.value.length];
  for (const each of store.allEntries()) void (each.value === null ? each.version : each.value);
  const purged: boolean = await store.purge('b', results[1].version);
  const report: RecoveryReport = store.recovery;
  const torn = report.tornTail === null ? 0 : report.tornTail.bytesDropped;
  await store.compact();
  try {
    await store.close();
  } catch (error) {
    if (isWalError(error, WalErrorCode.Failed)) return -1;
    throw error;
  }
  const wal: Wal = await Wal.open(`${dir}-raw`, { fs, sync: 'none' });
  await wal.append([{ op: 'set', key: 'k', version: 'v', value: 'x' }]);
  await wal.close();
  return (value?.value.length ?? 0) + Number(tombstone) + Number(purged) + torn + store.size;
}
