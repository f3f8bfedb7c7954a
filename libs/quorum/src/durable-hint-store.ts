import { openStore, type Store, type StoreOptions } from '@kv/wal';
import { HINTS_MAX_DEFAULT, HintIndex, hintId, type Hint, type HintStore } from './hint-store';

/** Options of {@link DurableHintStore.open}. */
export interface DurableHintStoreOptions {
  /** Bound on pending hints (default {@link HINTS_MAX_DEFAULT}). */
  hintsMax?: number;
  /** Options of the underlying store (sync policy, ...); the default syncs every hint (group-committed). */
  store?: StoreOptions;
}

// A hint's value in the log: a one-character tag, then the value of a set.
const TAG_SET = 's';
const TAG_TOMBSTONE = 'd';

/**
 * A {@link HintStore} on a `@kv/wal` store of its own, so that hints survive a restart of the coordinator.
 *
 * Each (node, key) is one entry of the store, versioned by the hinted write's version, so the store itself keeps only
 * the newest hint of a key; a delivered or dropped hint is purged from the log. The order of hints ("oldest first")
 * is rebuilt from the store's iteration order when it is opened.
 */
export class DurableHintStore implements HintStore {
  private constructor(
    private readonly store: Store,
    private readonly index: HintIndex,
  ) {}

  /** Opens (or creates) the hint store in `dir`, a directory nothing else writes to. */
  static async open(dir: string, options: DurableHintStoreOptions = {}): Promise<DurableHintStore> {
    const store = await openStore(dir, options.store);
    const index = new HintIndex(options.hintsMax ?? HINTS_MAX_DEFAULT);
    const evicted: Hint[] = [];
    for (const [id, entry] of store.entries()) {
      const hint = decodeHint(id, entry.value, entry.version);
      if (hint !== undefined) index.put(hint, evicted);
    }
    const hints = new DurableHintStore(store, index);
    await Promise.all(evicted.map((hint) => hints.store.purge(hintId(hint), hint.version)));
    return hints;
  }

  get count(): number {
    return this.index.count;
  }

  get dropped(): number {
    return this.index.dropped;
  }

  async add(hint: Hint): Promise<void> {
    const evicted: Hint[] = [];
    if (!this.index.put(hint, evicted)) return;
    const value = hint.value === null ? TAG_TOMBSTONE : TAG_SET + hint.value;
    await Promise.all([
      this.store.set(hintId(hint), value, hint.version),
      ...evicted.map((old) => this.store.purge(hintId(old), old.version)),
    ]);
  }

  pending(nodeId: string, limit: number): Hint[] {
    return this.index.pending(nodeId, limit);
  }

  async remove(hint: Hint): Promise<void> {
    if (this.index.delete(hint)) await this.store.purge(hintId(hint), hint.version);
  }

  nodes(): string[] {
    return this.index.nodes();
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

function decodeHint(id: string, value: string, version: string): Hint | undefined {
  const separator = id.indexOf('\u0000');
  if (separator <= 0) return undefined;
  const nodeId = id.slice(0, separator);
  const key = id.slice(separator + 1);
  if (value.startsWith(TAG_SET)) return { nodeId, key, value: value.slice(1), version };
  if (value === TAG_TOMBSTONE) return { nodeId, key, value: null, version };
  return undefined;
}
