import type { WalLogger } from '../wal-options';

/** A logger that keeps what it is told, for assertions, and prints nothing. */
export function captureLogger(): WalLogger & { readonly warnings: { message: string; meta?: object }[] } {
  const warnings: { message: string; meta?: object }[] = [];
  return {
    warnings,
    warn(message: string, meta?: object): void {
      warnings.push({ message, meta });
    },
    info(): void {
      // Dropped: tests assert on warnings only.
    },
  };
}
