import winston from 'winston';

/** Log levels accepted by `LOG_LEVEL` (winston's npm levels). */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The logger of a kv process: winston, JSON, one event per line. */
export type Logger = winston.Logger;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written (default `info`). */
  level?: LogLevel;
  /** Added to every line as `service` (e.g. `proxy`, `datanode`). */
  service: string;
  /** Added to every line (e.g. `{ nodeId: 'node1' }`). */
  fields?: Record<string, unknown>;
  /** Where lines go (default standard output). Tests pass a stream to read them. */
  stream?: NodeJS.WritableStream;
}

/**
 * A winston logger writing one JSON object per line with `level`, `message`, `time`, `service` and any metadata.
 * Errors given as metadata (`{ err }`) are written with their message and code, never as a bare object.
 */
export function createLogger(options: LoggerOptions): Logger {
  return winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { service: options.service, ...options.fields },
    format: winston.format.combine(
      winston.format.timestamp({ alias: 'time' }),
      winston.format((info) => {
        delete (info as { timestamp?: unknown }).timestamp;
        const err = (info as { err?: unknown }).err;
        if (err instanceof Error) {
          (info as { err?: unknown }).err = { message: err.message, name: err.name, code: (err as { code?: unknown }).code };
        }
        return info;
      })(),
      winston.format.json(),
    ),
    transports: [
      options.stream === undefined
        ? new winston.transports.Console({ stderrLevels: [] })
        : new winston.transports.Stream({ stream: options.stream }),
    ],
  });
}

/** Waits until every line logged so far has been written (before a process exits). */
export function flushLogger(logger: Logger, timeoutMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    logger.on('finish', () => {
      clearTimeout(timer);
      resolve();
    });
    logger.end();
  });
}
