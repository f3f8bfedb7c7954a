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
}

/** Default bound on pending hints: enough for minutes of writes of a down node; anti-entropy repairs the rest. */
export const HINTS_MAX_DEFAULT = 100_000;

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
  /** Hints dropped because the store was full, since it was opened. */
  readonly dropped: number;
  /** Releases resources (files). */
  close(): Promise<void>;
}

/** The in-memory core shared by the hint stores: ordered oldest first, per node and overall, with a global bound. */
export class HintIndex {
  /** All hints, oldest first (a replaced hint moves to the end). Keyed by {@link hintId}. */
  private readonly all = new Map<string, Hint>();
  private readonly byNode = new Map<string, Map<string, Hint>>();
  private droppedCount = 0;

  /** @throws TypeError unless `hintsMax` is a positive integer. */
  constructor(private readonly hintsMax: number) {
    if (!Number.isInteger(hintsMax) || hintsMax < 1) throw new TypeError(`hintsMax must be a positive integer, got ${hintsMax}`);
  }

  get count(): number {
    return this.all.size;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * Puts a hint; returns false when an equal or newer one is kept already. Hints evicted to respect the bound
   * (oldest first) are appended to `evicted` and counted as dropped.
   */
  put(hint: Hint, evicted: Hint[] = []): boolean {
    const id = hintId(hint);
    const existing = this.all.get(id);
    if (existing !== undefined) {
      if (existing.version >= hint.version) return false;
      this.delete(existing);
    }
    this.all.set(id, hint);
    let forNode = this.byNode.get(hint.nodeId);
    if (forNode === undefined) {
      forNode = new Map();
      this.byNode.set(hint.nodeId, forNode);
    }
    forNode.set(hint.key, hint);
    while (this.all.size > this.hintsMax) {
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
}

/** A {@link HintStore} in memory: hints are lost when the process ends. For tests and for coordinators without disk. */
export class MemoryHintStore implements HintStore {
  private readonly index: HintIndex;

  constructor(options: MemoryHintStoreOptions = {}) {
    this.index = new HintIndex(options.hintsMax ?? HINTS_MAX_DEFAULT);
  }

  get count(): number {
    return this.index.count;
  }

  get dropped(): number {
    return this.index.dropped;
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
