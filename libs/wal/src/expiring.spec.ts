import CRC32 from 'crc-32';
import { EXPIRES_AT_BYTES, FRAME_HEADER_BYTES, OP_SET, OP_SET_EXPIRING } from './format';
import { PowerLossFileSystem } from './power-loss-file-system';
import { decodePayload, encodeRecords, newDecodedPayload } from './record-codec';
import { openStore, type Store } from './store';
import type { StoreOptions } from './store-options';
import { captureLogger } from './testing/capture-logger';
import { formatVersion } from './version-clock';
import { Wal } from './wal';

const DIR = '/store';

function v(ms: number): string {
  return formatVersion(ms, 0, 'test');
}

function memory(): StoreOptions & { fs: PowerLossFileSystem } {
  return { fs: new PowerLossFileSystem(), logger: captureLogger(), onFatal: () => undefined };
}

async function reopen(store: Store, options: StoreOptions): Promise<Store> {
  await store.close();
  return openStore(store.dir, options);
}

describe('SET_EXPIRING records', () => {
  it('round-trip a value with its expiry, including one above 2^32 ms, and keep SET for values without', () => {
    const far = 2 ** 40 + 12345;
    const bytes = encodeRecords([
      { op: 'set', key: 'k', version: 'v1', value: 'välue', expiresAt: far },
      { op: 'set', key: 'p', version: 'v2', value: 'plain' },
    ]);
    const out = newDecodedPayload();
    const first = bytes.readUInt32LE(0);
    expect(bytes.readUInt32LE(4)).toBe(CRC32.buf(bytes.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + first)) >>> 0);
    expect(decodePayload(bytes, FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + first, out)).toBe(true);
    expect(out).toMatchObject({ op: OP_SET_EXPIRING, key: 'k', version: 'v1', value: 'välue', expiresAt: far });
    const secondStart = FRAME_HEADER_BYTES + first + FRAME_HEADER_BYTES;
    const second = bytes.readUInt32LE(FRAME_HEADER_BYTES + first);
    expect(decodePayload(bytes, secondStart, secondStart + second, out)).toBe(true);
    expect(out).toMatchObject({ op: OP_SET, key: 'p', value: 'plain', expiresAt: undefined });
    // The expiring record is the plain one plus the 8 bytes of its expiry.
    const plain = encodeRecords([{ op: 'set', key: 'k', version: 'v1', value: 'välue' }]);
    expect(first).toBe(plain.readUInt32LE(0) + EXPIRES_AT_BYTES);
  });

  it('refuses a payload whose expiry is cut short or longer than its 8 bytes', () => {
    const bytes = encodeRecords([{ op: 'set', key: 'k', version: 'v1', value: 'x', expiresAt: 5 }]);
    const length = bytes.readUInt32LE(0);
    const out = newDecodedPayload();
    expect(decodePayload(bytes, FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length - 1, out)).toBe(false);
    const longer = Buffer.concat([bytes, Buffer.alloc(1)]);
    expect(decodePayload(longer, FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length + 1, out)).toBe(false);
  });

  it('refuses an expiry that is not a whole number of ms from 0 to 2^53 - 1', () => {
    for (const expiresAt of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => encodeRecords([{ op: 'set', key: 'k', version: 'v', value: 'x', expiresAt }])).toThrow(TypeError);
    }
  });

  it('are replayed by the log with their expiry', async () => {
    const options = memory();
    const wal = await Wal.open(DIR, options);
    await wal.append([
      { op: 'set', key: 'a', version: 'v1', value: 'x', expiresAt: 1000 },
      { op: 'set', key: 'b', version: 'v2', value: 'y' },
    ]);
    await wal.close();
    const seen: unknown[] = [];
    const again = await Wal.open(DIR, { ...options, onRecord: (op, key, version, value, expiresAt) => seen.push([op, key, version, value, expiresAt]) });
    await again.close();
    expect(seen).toEqual([
      ['set', 'a', 'v1', 'x', 1000],
      ['set', 'b', 'v2', 'y', undefined],
    ]);
  });
});

describe('Store with expiring values', () => {
  it('keeps the expiry of a value across reopen (log replay) and compaction (snapshot)', async () => {
    const options = memory();
    let store = await openStore(DIR, options);
    await store.set('e', 'expiring', v(100), 5000);
    await store.apply([
      { op: 'set', key: 'f', value: 'also', version: v(101), expiresAt: 6000 },
      { op: 'set', key: 'p', value: 'plain', version: v(102) },
    ]);
    expect(store.get('e')).toEqual({ value: 'expiring', version: v(100), expiresAt: 5000 });
    store = await reopen(store, options);
    expect(store.get('e')).toEqual({ value: 'expiring', version: v(100), expiresAt: 5000 });
    expect(store.getEntry('f')?.expiresAt).toBe(6000);
    expect(store.getEntry('p')?.expiresAt).toBeUndefined();
    await store.compact();
    store = await reopen(store, options);
    expect(store.recovery.snapshot).not.toBeNull();
    expect(store.getEntry('e')).toMatchObject({ value: 'expiring', expiresAt: 5000 });
    expect(store.getEntry('f')?.expiresAt).toBe(6000);
    expect(store.getEntry('p')).toMatchObject({ value: 'plain', expiresAt: undefined });
    await store.close();
  });

  it('a write without expiry replaces an expiring value and clears its expiry', async () => {
    const options = memory();
    let store = await openStore(DIR, options);
    await store.set('k', 'first', v(100), 5000);
    await store.set('k', 'second', v(200));
    store = await reopen(store, options);
    expect(store.getEntry('k')).toMatchObject({ value: 'second', version: v(200), expiresAt: undefined });
    await store.close();
  });

  it('expire turns the expiring value into a tombstone at the same version, durably', async () => {
    const options = memory();
    let store = await openStore(DIR, options);
    await store.set('k', 'value', v(100), 5000);
    expect(store.size).toBe(1);
    expect(await store.expire('k', v(100))).toBe(true);
    expect(store.getEntry('k')).toMatchObject({ value: null, tombstone: true, version: v(100), expiresAt: undefined });
    expect(store.size).toBe(0);
    expect(store.stats().tombstones).toBe(1);
    // The same version delivered again (a hint, a repair) is ignored: it cannot bring the value back.
    expect(await store.set('k', 'value', v(100), 5000)).toEqual({ applied: false, version: v(100) });
    store = await reopen(store, options);
    expect(store.getEntry('k')).toMatchObject({ value: null, version: v(100) });
    expect(store.get('k')).toBeUndefined();
    await store.compact();
    store = await reopen(store, options);
    expect(store.getEntry('k')).toMatchObject({ value: null, version: v(100) });
    // A newer write revives the key.
    expect(await store.set('k', 'again', v(300))).toEqual({ applied: true, version: v(300) });
    await store.close();
  });

  it('expire changes nothing, and logs nothing, unless the key holds an expiring value at exactly that version', async () => {
    const options = memory();
    const store = await openStore(DIR, options);
    await store.set('plain', 'value', v(100));
    await store.set('newer', 'value', v(200), 5000);
    await store.delete('gone', v(100));
    const records = store.stats().records;
    expect(await store.expire('plain', v(100))).toBe(false);
    expect(await store.expire('newer', v(100))).toBe(false);
    expect(await store.expire('gone', v(100))).toBe(false);
    expect(await store.expire('missing', v(100))).toBe(false);
    expect(store.stats().records).toBe(records);
    expect(store.getEntry('plain')?.value).toBe('value');
    expect(store.getEntry('newer')?.value).toBe('value');
    await store.close();
  });

  it('expire of a value still on its way to disk is decided against it', async () => {
    const options = memory();
    const store = await openStore(DIR, options);
    const written = store.set('k', 'value', v(100), 5000);
    const expired = store.expire('k', v(100));
    await written;
    expect(await expired).toBe(true);
    expect(store.getEntry('k')).toMatchObject({ value: null, version: v(100) });
    await store.close();
  });
});
