import CRC32 from 'crc-32';

/** Unsigned CRC32 of a string's UTF-8 bytes. */
export function hashKey(key: string): number {
  return CRC32.str(key) >>> 0;
}
