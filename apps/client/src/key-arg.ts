import { isKvError, validateKey } from '@kv/protocol';
import { UsageError } from './usage-error';

/**
 * Checks a key given on the command line before anything is sent (the same rule as the server's: 1 to 1024 bytes of
 * UTF-8, well-formed Unicode).
 * @returns the key, unchanged.
 * @throws UsageError naming the key when it is invalid.
 */
export function checkKey(key: string): string {
  try {
    return validateKey(key);
  } catch (err) {
    if (isKvError(err)) throw new UsageError(`invalid key ${JSON.stringify(key)}: ${err.message}`, { cause: err });
    throw err;
  }
}
