import * as fc from 'fast-check';
import CRC32 from 'crc-32';
import {
  FRAME_HEADER_BYTES,
  RECORD_KEY_BYTES_MAX,
  OP_DELETE,
  OP_PURGE,
  OP_SET,
  OP_SNAPSHOT_END,
  OP_SNAPSHOT_META,
  RECORD_BYTES_MAX,
  VALUE_BYTES_MAX,
  VERSION_BYTES_MAX,
} from './format';
import {
  crc32,
  decodePayload,
  encodeRecords,
  encodeSnapshotEnd,
  encodeSnapshotMeta,
  newDecodedPayload,
  type WalRecord,
} from './record-codec';

const OPS = { set: OP_SET, delete: OP_DELETE, purge: OP_PURGE } as const;

/** Decodes consecutive frames, checking each frame's length and CRC. */
function decodeAll(bytes: Buffer): WalRecord[] {
  const records: WalRecord[] = [];
  const out = newDecodedPayload();
  let at = 0;
  while (at < bytes.length) {
    const length = bytes.readUInt32LE(at);
    const start = at + FRAME_HEADER_BYTES;
    expect(bytes.readUInt32LE(at + 4)).toBe(CRC32.buf(bytes.subarray(start, start + length)) >>> 0);
    expect(decodePayload(bytes, start, start + length, out)).toBe(true);
    const op = (Object.keys(OPS) as (keyof typeof OPS)[]).find((name) => OPS[name] === out.op)!;
    records.push(op === 'set' ? { op, key: out.key, version: out.version, value: out.value! } : { op, key: out.key, version: out.version });
    at = start + length;
  }
  expect(at).toBe(bytes.length);
  return records;
}

describe('record codec', () => {
  it.each<[string, WalRecord]>([
    ['a set', { op: 'set', key: 'k', version: 'v1', value: 'hello' }],
    ['an empty value', { op: 'set', key: 'k', version: 'v', value: '' }],
    ['a delete', { op: 'delete', key: 'k', version: 'v2' }],
    ['a purge', { op: 'purge', key: 'k', version: 'v3' }],
    ['an empty key', { op: 'set', key: '', version: 'v', value: 'x' }],
    ['multi-byte UTF-8', { op: 'set', key: 'clé ключ 鍵 🔑', version: 'vé', value: 'valeur 値 🎉' }],
  ])('round-trips %s', (_name, record) => {
    expect(decodeAll(encodeRecords([record]))).toEqual([record]);
  });

  it('round-trips any records (property)', () => {
    const text = (max: number) => fc.string({ unit: 'grapheme', maxLength: max });
    const record = fc.oneof(
      fc.record({ op: fc.constant('set' as const), key: text(40), version: text(20), value: text(200) }),
      fc.record({ op: fc.constantFrom('delete' as const, 'purge' as const), key: text(40), version: text(20) }),
    );
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (records) => {
        expect(decodeAll(encodeRecords(records))).toEqual(records);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts the maxima and refuses one byte more (TypeError, nothing encoded)', () => {
    const key = 'k'.repeat(RECORD_KEY_BYTES_MAX);
    const version = 'v'.repeat(VERSION_BYTES_MAX);
    const [decoded] = decodeAll(encodeRecords([{ op: 'set', key, version, value: 'x' }]));
    expect(decoded).toEqual({ op: 'set', key, version, value: 'x' });
    expect(() => encodeRecords([{ op: 'set', key: key + 'k', version: 'v', value: '' }])).toThrow(TypeError);
    expect(() => encodeRecords([{ op: 'set', key: 'é'.repeat(RECORD_KEY_BYTES_MAX / 2 + 1), version: 'v', value: '' }])).toThrow(TypeError);
    expect(() => encodeRecords([{ op: 'delete', key: 'k', version: version + 'v' }])).toThrow(TypeError);
    expect(() => encodeRecords([{ op: 'set', key: 'k', version: 'v', value: 'x'.repeat(VALUE_BYTES_MAX + 1) }])).toThrow(TypeError);
  });

  it('computes CRCs as unsigned 32-bit numbers, as crc-32 does', () => {
    const bytes = Buffer.from('123456789');
    expect(crc32(bytes)).toBe(0xcbf43926);
    expect(crc32(Buffer.from('xx123456789yy'), 2, 11)).toBe(0xcbf43926);
  });

  it('encodes snapshot records', () => {
    const out = newDecodedPayload();
    const meta = encodeSnapshotMeta('floor');
    expect(decodePayload(meta, FRAME_HEADER_BYTES, meta.length, out)).toBe(true);
    expect(out).toMatchObject({ op: OP_SNAPSHOT_META, key: '', version: 'floor' });
    const end = encodeSnapshotEnd(1234);
    expect(decodePayload(end, FRAME_HEADER_BYTES, end.length, out)).toBe(true);
    expect(out).toMatchObject({ op: OP_SNAPSHOT_END, count: 1234 });
  });

  describe('rejects payloads of impossible layout', () => {
    const valid = encodeRecords([{ op: 'set', key: 'key', version: 'ver', value: 'value' }]).subarray(FRAME_HEADER_BYTES);
    const patched = (patch: (payload: Buffer) => Buffer): Buffer => patch(Buffer.from(valid));
    it.each<[string, Buffer]>([
      ['an empty payload', Buffer.alloc(0)],
      ['an unknown op', patched((p) => ((p[0] = 9), p))],
      ['op 0', patched((p) => ((p[0] = 0), p))],
      ['a key length past the end', patched((p) => (p.writeUInt16LE(200, 1), p))],
      ['a key length over the maximum', patched((p) => (p.writeUInt16LE(RECORD_KEY_BYTES_MAX + 1, 1), p))],
      ['a version length past the end', patched((p) => ((p[6] = 250), p))],
      ['a value length past the end', patched((p) => (p.writeUInt32LE(6, 10), p))],
      ['a value length of 2^32-1', patched((p) => (p.writeUInt32LE(0xffffffff, 10), p))],
      ['a value length too short (bytes left over)', patched((p) => (p.writeUInt32LE(4, 10), p))],
      ['a set without value length', patched((p) => p.subarray(0, 10))],
      ['a delete with bytes left over', patched((p) => ((p[0] = OP_DELETE), p))],
      ['a snapshot meta with a key', patched((p) => ((p[0] = OP_SNAPSHOT_META), p))],
      ['a snapshot end of the wrong size', Buffer.from([OP_SNAPSHOT_END, 1, 0, 0])],
    ])('%s', (_name, payload) => {
      expect(decodePayload(payload, 0, payload.length, newDecodedPayload())).toBe(false);
    });

    it('a payload over RECORD_BYTES_MAX, without reading it', () => {
      const huge = { length: RECORD_BYTES_MAX + 1 };
      // Only the bounds are looked at: the (fake, empty) buffer is never indexed past its start.
      expect(decodePayload(Buffer.alloc(1), 0, huge.length, newDecodedPayload())).toBe(false);
    });
  });
});
