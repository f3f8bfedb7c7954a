export {
  ConfigError,
  describeConfig,
  flagName,
  parse,
  parseFlags,
  readConfig,
  settingsHelp,
} from './config';
export type { ConfigOf, Setting, Settings } from './config';
export { LOG_LEVELS, createLogger, flushLogger } from './logger';
export type { LogLevel, Logger, LoggerOptions } from './logger';
export { HttpMetrics, LATENCY_BUCKETS_SECONDS, createRegistry, inFlightMetrics, secondsSince } from './metrics';
export {
  CONNECTIONS_CHECKING_INTERVAL_MS,
  SERVER_LIMITS_DEFAULT,
  acceptRequestId,
  bearerMatches,
  closeServer,
  createHttpServer,
  listen,
  nextRequestId,
  readBody,
  sendError,
  sendJson,
  sendText,
} from './http';
export type { ServerLimits } from './http';
export { SHUTDOWN_DEADLINE_MARGIN_MS, SHUTDOWN_GRACE_MS_DEFAULT, onStopSignal } from './shutdown';
export { EXIT_CONFIG_ERROR, EXIT_START_FAILED, KV_VERSION, startProcess } from './start-process';
export {
  createServerShell,
  EncodedBody,
  errorHandler,
  logFailure,
  metricsHandler,
  notFoundHandler,
  TokenCheck,
} from './server-shell';
export type { FastRoute, RequestContext, ServerShellOptions } from './server-shell';
export { IN_FLIGHT_LIMITS_DEFAULT, IN_FLIGHT_SETTINGS, InFlight, InFlightTicket, RETRY_AFTER_S, overloadedBytes } from './in-flight';
export type { InFlightEvents, InFlightLimits } from './in-flight';
export { SAMPLE_CLUSTER_TOKEN, TOKENS_MAX, isLoopbackHost, parseTokens, sampleTokenWarning, tokensOf } from './tokens';
export type { TokenList } from './tokens';
export { LOCK_FILE, LOCK_REFRESH_MS, LOCK_STALE_MS, lockDataDir } from './data-dir-lock';
export type { DataDirLock } from './data-dir-lock';
export { loadClientTls, loadServerTls } from './tls';
export type { ClientTls, ClientTlsFiles, ServerTls, ServerTlsFiles } from './tls';
