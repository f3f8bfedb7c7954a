/**
 * A hint: a versioned write that a replica missed, kept by the coordinator to hand it over once the replica is back
 * (hinted handoff). Delivering a hint is resending the write; replicas ignore versions older than what they hold.
 */
export interface Hint {
  /** The replica that missed the write. */
  readonly nodeId: string;
  readonly key: string;
  /** `null` for a tombstone. */
  readonly value: string | null;
  readonly version: string;
  /** When the value expires (ms since the epoch), for a write with a time to live: delivered with it. */
  readonly expiresAt?: number;
}

/** Default bound on pending hints: enough for minutes of writes of a down node; anti-entropy repairs the rest. */
export const HINTS_MAX_DEFAULT = 100_000;
/**
 * Default bound on the bytes of pending hints (keys and values, see {@link hintBytes}): hints are kept in memory and
 * on disk, so this bounds both; a down node's minutes of small writes fit, a flood of large values does not.
 */
export const HINTS_MAX_BYTES_DEFAULT = 256 * 1024 * 1024;

/** The bytes a hint counts toward the bound: its node id, key, value and version, in UTF-8. */
export function hintBytes(hint: Hint): number {
  return (
    Buffer.byteLength(hint.nodeId) + Buffer.byteLength(hint.key) + (hint.value === null ? 0 : Buffer.byteLength(hint.value)) + Buffer.byteLength(hint.version)
  );
}

/**
 * Where the coordinator keeps hints. Implementations keep at most one hint per (node, key) -- the newest version, since
 * a newer write makes older ones useless -- and a bounded number in total, dropping the oldest first and counting
 * the drops. Hints are best effort: a dropped hint leaves the replica stale until read repair or anti-entropy.
 *
 * Concurrency: calls may interleave; `add` and `remove` are ordered by the order in which they are called.
 */
export interface HintStore {
  /** Records a hint, replacing an older one for the same node and key; ignores one older than what is kept. */
  add(hint: Hint): Promise<void>;
  /** Up to `limit` pending hints for `nodeId`, oldest first. */
  pending(nodeId: string, limit: number): Hint[];
  /** Removes a delivered hint, unless a newer hint for the same node and key replaced it meanwhile. */
  remove(hint: Hint): Promise<void>;
  /** Nodes that have pending hints. */
  nodes(): string[];
  /** Pending hints in total. */
  readonly count: number;
  /** Bytes of pending hints (see {@link hintBytes}). */
  readonly bytes: number;
  /** Hints dropped because the store was full (in count or in bytes), since it was opened. */
  readonly dropped: number;
  /** Hints not recorded because the disk under the store failed, since it was opened (0 for a store in memory). */
  readonly diskDropped: number;
  /** Releases resources (files). */
  close(): Promise<void>;
}

/**
 * The in-memory core shared by the hint stores: ordered oldest first, per node and overall, with global bounds on
 * the number of hints and on their bytes.
 */
export class HintIndex {
  /** All hints, oldest first (a replaced hint moves to the end). Keyed by {@link hintId}. */
  private readonly all = new Map<string, Hint>();
  private readonly byNode = new Map<string, Map<string, Hint>>();
  private droppedCount = 0;
  private totalBytes = 0;

  /** @throws TypeError unless `hintsMax` and `hintsMaxBytes` are positive integers. */
  constructor(
    private readonly hintsMax: number,
    private readonly hintsMaxBytes: number = HINTS_MAX_BYTES_DEFAULT,
  ) {
    if (!Number.isInteger(hintsMax) || hintsMax < 1) throw new TypeError(`hintsMax must be a positive integer, got ${hintsMax}`);
    if (!Number.isSafeInteger(hintsMaxBytes) || hintsMaxBytes < 1) throw new TypeError(`hintsMaxBytes must be a positive integer, got ${hintsMaxBytes}`);
  }

  get count(): number {
    return this.all.size;
  }

  /** Bytes of the hints kept (see {@link hintBytes}). */
  get bytes(): number {
    return this.totalBytes;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * Puts a hint; returns false when an equal or newer one is kept already, or when the hint alone is larger than the
   * bound on bytes (it is dropped and counted). Hints evicted to respect the bounds (oldest first) are appended to
   * `evicted` and counted as dropped.
   */
  put(hint: Hint, evicted: Hint[] = []): boolean {
    const id = hintId(hint);
    const existing = this.all.get(id);
    if (existing !== undefined && existing.version >= hint.version) return false;
    const size = hintBytes(hint);
    if (size > this.hintsMaxBytes) {
      this.droppedCount += 1;
      return false;
    }
    if (existing !== undefined) this.delete(existing);
    this.all.set(id, hint);
    this.totalBytes += size;
    let forNode = this.byNode.get(hint.nodeId);
    if (forNode === undefined) {
      forNode = new Map();
      this.byNode.set(hint.nodeId, forNode);
    }
    forNode.set(hint.key, hint);
    while (this.all.size > this.hintsMax || this.totalBytes > this.hintsMaxBytes) {
      const oldest: Hint = this.all.values().next().value as Hint;
      this.delete(oldest);
      this.droppedCount += 1;
      evicted.push(oldest);
    }
    return true;
  }

  /** Deletes the hint if the kept one has the same version; returns whether it did. */
  delete(hint: Hint): boolean {
    const id = hintId(hint);
    const existing = this.all.get(id);
    if (existing === undefined || existing.version !== hint.version) return false;
    this.all.delete(id);
    this.totalBytes -= hintBytes(existing);
    const forNode = this.byNode.get(hint.nodeId);
    forNode?.delete(hint.key);
    if (forNode !== undefined && forNode.size === 0) this.byNode.delete(hint.nodeId);
    return true;
  }

  pending(nodeId: string, limit: number): Hint[] {
    const result: Hint[] = [];
    const forNode = this.byNode.get(nodeId);
    if (forNode === undefined) return result;
    for (const hint of forNode.values()) {
      if (result.length >= limit) break;
      result.push(hint);
    }
    return result;
  }

  nodes(): string[] {
    return [...this.byNode.keys()];
  }

  /** The kept hint of a node and key, if any. */
  get(id: string): Hint | undefined {
    return this.all.get(id);
  }

  /** Every kept hint, oldest first. */
  hints(): IterableIterator<Hint> {
    return this.all.values();
  }
}

/**
 * The identity of a hint's slot: node and key, joined by a NUL, which node ids never contain (ring ids are
 * validated); any key may follow it unambiguously.
 */
export function hintId(hint: { nodeId: string; key: string }): string {
  return `${hint.nodeId}\u0000${hint.key}`;
}

/** Options of {@link MemoryHintStore}. */
export interface MemoryHintStoreOptions {
  /** Bound on pending hints (default {@link HINTS_MAX_DEFAULT}). */
  hintsMax?: number;
  /** Bound on the bytes of pending hints (default {@link HINTS_MAX_BYTES_DEFAULT}). */
  hintsMaxBytes?: number;
}

/** A {@link HintStore} in memory: hints are lost when the process ends. For tests and for coordinators without disk. */
export class MemoryHintStore implements HintStore {
  private readonly index: HintIndex;

  constructor(options: MemoryHintStoreOptions = {}) {
    this.index = new HintIndex(options.hintsMax ?? HINTS_MAX_DEFAULT, options.hintsMaxBytes ?? HINTS_MAX_BYTES_DEFAULT);
  }

  get count(): number {
    return this.index.count;
  }

  get bytes(): number {
    return this.index.bytes;
  }

  get dropped(): number {
    return this.index.dropped;
  }

  get diskDropped(): number {
    return 0;
  }

  async add(hint: Hint): Promise<void> {
    this.index.put(hint);
  }

  pending(nodeId: string, limit: number): Hint[] {
    return this.index.pending(nodeId, limit);
  }

  async remove(hint: Hint): Promise<void> {
    this.index.delete(hint);
  }

  nodes(): string[] {
    return this.index.nodes();
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}
