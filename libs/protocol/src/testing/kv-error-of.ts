import { KvError } from '../kv-error';

/** The KvError `fn` throws; fails the test when it throws nothing or something else. */
export function kvErrorOf(fn: () => unknown): KvError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KvError) return err;
    throw new Error(`expected a KvError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a KvError, nothing was thrown');
}

/** The KvError `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function kvErrorOfAsync(promise: Promise<unknown>): Promise<KvError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof KvError) return err;
    throw new Error(`expected a KvError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a KvError, the promise resolved');
}
