import { ConfigError, settingsHelp, type Settings } from './config';

/** Exit code of a process stopped by a bad configuration (docs/configuration.md#how-settings-are-read). */
export const EXIT_CONFIG_ERROR = 2;
/** kv's version, as `--version` prints it and `INFO` reports it. */
export const KV_VERSION = '0.1.0';

/** Exit code of a process that failed to start for another reason (a corrupt log, a port in use, ...). */
export const EXIT_START_FAILED = 1;

/**
 * Runs a server process's `main`: answers `--help` (the settings, their flags and defaults) and `--version`, and turns
 * start-up failures into one line on stderr and an exit code: 2 for a bad configuration, 1 for anything else.
 */
export function startProcess(program: string, settings: Settings, main: () => Promise<void>, version = KV_VERSION): void {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      `Usage: ${program} [--flag value ...]\n\nEach setting is an environment variable or a flag (a flag wins):\n${settingsHelp(settings)}\n`,
    );
    process.exit(0);
  }
  if (argv.includes('--version')) {
    process.stdout.write(`${version}\n`);
    process.exit(0);
  }
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${program}: ${error.message}\n`);
      process.exit(EXIT_CONFIG_ERROR);
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${program}: cannot start: ${message}\n`);
    process.exit(EXIT_START_FAILED);
  });
}
