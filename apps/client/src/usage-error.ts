/**
 * A mistake on the command line found by `kv` itself, before anything is sent: an invalid key, an unreadable or malformed
 * input file, a bad `--server` URL. It ends the command with exit code 2 and its message on stderr.
 */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** True when `err` is a {@link UsageError}. */
export function isUsageError(err: unknown): err is UsageError {
  return err instanceof UsageError;
}
