import { isClockId } from '@kv/protocol';
import type { StableStore } from './stable-store';

/** The record of the {@link StableStore} that keeps a generated clock id. */
export const CLOCK_ID_RECORD = 'clock-id';

/**
 * This coordinator's clock id: the configured one (`PROXY_ID`) when set; otherwise the one generated at its first
 * start and kept in its stable store, so that it stays the same across restarts (versions of one id never go back,
 * thanks to the clock floor kept beside it).
 * @param generate makes a new id (random: two coordinators must not pick the same one).
 * @throws Error when the kept record is malformed (never guess an id), or `generate` makes an invalid one; the
 *   store's error on an I/O failure.
 */
export async function resolveClockId(stable: StableStore, configured: string | undefined, generate: () => string): Promise<string> {
  if (configured !== undefined) {
    if (!isClockId(configured)) throw new TypeError(`a clock id must be 1..16 of [a-z0-9_-], got ${JSON.stringify(configured)}`);
    return configured;
  }
  const kept = await stable.read(CLOCK_ID_RECORD);
  if (kept !== undefined) {
    const id = kept.trim();
    if (!isClockId(id)) throw new Error(`the ${CLOCK_ID_RECORD} record is malformed: ${JSON.stringify(kept.slice(0, 40))}`);
    return id;
  }
  const id = generate();
  if (!isClockId(id)) throw new TypeError(`generated clock id ${JSON.stringify(id)} is not valid`);
  await stable.write(CLOCK_ID_RECORD, `${id}\n`);
  return id;
}
