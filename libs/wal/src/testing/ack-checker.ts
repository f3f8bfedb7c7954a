import type { WriteResult } from '../entry';
import type { Store } from '../store';

const TOMBSTONE = '\u0000tombstone';

/**
 * Keeps what a workload attempted and what the store acknowledged, and checks a recovered store against it: every
 * acknowledged write is there with its value or a newer one; nothing is there that was never attempted; an
 * acknowledged value carries the version it was acknowledged with. Values must be unique per attempt.
 */
export class AckChecker {
  private readonly attempted = new Map<string, Set<string>>();
  private readonly floors = new Map<string, { version: string; value: string | null | undefined }>();
  private readonly ackedVersions = new Map<string, string>();
  private readonly relaxed = new Set<string>();

  /** Notes an attempt to write `value` (null: a delete) under `key`, before the call. */
  attempt(key: string, value: string | null): void {
    let values = this.attempted.get(key);
    if (values === undefined) this.attempted.set(key, (values = new Set()));
    values.add(value ?? TOMBSTONE);
  }

  /** Notes a resolved write. */
  ack(key: string, value: string | null, result: WriteResult): void {
    const known = result.applied ? value : undefined;
    if (result.applied && value !== null) this.ackedVersions.set(value, result.version);
    const floor = this.floors.get(key);
    if (floor === undefined || result.version > floor.version) this.floors.set(key, { version: result.version, value: known });
    else if (result.version === floor.version && floor.value === undefined) floor.value = known;
  }

  /** Exempts `key` from the "acknowledged writes are there" check (it may be purged). */
  relax(key: string): void {
    this.relaxed.add(key);
  }

  /** Lists every violation (empty when the store is right). */
  problems(store: Store): string[] {
    const problems: string[] = [];
    for (const [key, floor] of this.floors) {
      if (this.relaxed.has(key)) continue;
      const entry = store.getEntry(key);
      if (entry === undefined) {
        problems.push(`${key}: acknowledged at ${floor.version} but absent`);
      } else if (entry.version < floor.version) {
        problems.push(`${key}: acknowledged at ${floor.version} but holds older ${entry.version}`);
      } else if (entry.version === floor.version && floor.value !== undefined && entry.value !== floor.value) {
        problems.push(`${key}: acknowledged ${JSON.stringify(floor.value)} at ${floor.version}, holds ${JSON.stringify(entry.value)}`);
      }
    }
    for (const entry of store.allEntries()) {
      if (!this.attempted.get(entry.key)?.has(entry.value ?? TOMBSTONE)) {
        problems.push(`${entry.key}: holds ${JSON.stringify(entry.value)}, which was never written`);
      }
      const version = entry.value === null ? undefined : this.ackedVersions.get(entry.value);
      if (version !== undefined && version !== entry.version) {
        problems.push(`${entry.key}: ${JSON.stringify(entry.value)} was acknowledged at ${version}, holds it at ${entry.version}`);
      }
    }
    return problems;
  }
}
