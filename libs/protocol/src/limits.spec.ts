import {
  BATCH_BODY_BYTES_MAX_DEFAULT,
  BATCH_OPS_MAX,
  batchBodyBytesMax,
  INTERNAL_BATCH_BODY_BYTES_MAX_DEFAULT,
  KEY_BYTES_MAX,
  SINGLE_BODY_BYTES_MAX_DEFAULT,
  singleBodyBytesMax,
  VALUE_BYTES_MAX_DEFAULT,
} from './limits';

describe('limits', () => {
  it('has the contract values', () => {
    expect(KEY_BYTES_MAX).toBe(1024);
    expect(VALUE_BYTES_MAX_DEFAULT).toBe(1048576);
    expect(BATCH_OPS_MAX).toBe(1000);
  });

  it('derives the default body limits', () => {
    expect(SINGLE_BODY_BYTES_MAX_DEFAULT).toBe(6 * 1048576 + 16384);
    expect(BATCH_BODY_BYTES_MAX_DEFAULT).toBe(16 * 1024 * 1024);
    expect(INTERNAL_BATCH_BODY_BYTES_MAX_DEFAULT).toBe(32 * 1024 * 1024);
  });

  it('admits the worst-escaped valid value in a single-key body', () => {
    const valueBytesMax = 4096;
    const body = JSON.stringify({ value: '\u0001'.repeat(valueBytesMax) });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(singleBodyBytesMax(valueBytesMax));
    expect(Buffer.byteLength(body)).toBeGreaterThan(5 * valueBytesMax);
  });

  it('admits a maximal batch of worst-escaped keys plus one maximal value', () => {
    const valueBytesMax = 1_048_576;
    const key = '\u0001'.repeat(KEY_BYTES_MAX);
    const ops: unknown[] = new Array(BATCH_OPS_MAX - 1).fill({ op: 'del', key });
    ops.push({ op: 'set', key, value: '\u0001'.repeat(valueBytesMax) });
    expect(Buffer.byteLength(JSON.stringify({ ops }))).toBeLessThanOrEqual(batchBodyBytesMax(valueBytesMax));
  });

  it('grows with a raised value limit', () => {
    expect(batchBodyBytesMax(8 * 1048576)).toBeGreaterThan(singleBodyBytesMax(8 * 1048576));
  });

  it('rejects a bad value limit as a bug', () => {
    expect(() => singleBodyBytesMax(0)).toThrow(TypeError);
    expect(() => batchBodyBytesMax(1.5)).toThrow(TypeError);
  });
});
