/**
 * `@kv/protocol`: kv's wire protocol. Message types and routes of the public and internal APIs, their validation, the
 * error registry and wire bodies, hybrid-logical-clock versions, and the axios clients of both APIs.
 * It imports no other `@kv` library. See `docs/protocol/http.md` and `docs/errors.md`.
 */

// Errors
export { ErrorCode, ERROR_STATUS, isErrorCode, isServerErrorCode, statusOf } from './errors';
export { isKvError, KvError } from './kv-error';
export type { KvErrorOptions, QuorumDetails } from './kv-error';
export {
  codeForStatus,
  errorBody,
  errorResponse,
  INTERNAL_ERROR_MESSAGE,
  isErrorBody,
  kvErrorFromBody,
  toKvError,
} from './error-body';
export type { ErrorBody, ErrorResponse } from './error-body';

// Limits
export {
  assertByteLimit,
  BATCH_BODY_BYTES_FLOOR,
  BATCH_BODY_BYTES_MAX_DEFAULT,
  BATCH_OP_ENVELOPE_BYTES,
  BATCH_OPS_MAX,
  batchBodyBytesMax,
  BODY_ENVELOPE_BYTES,
  INTERNAL_BATCH_BODY_BYTES_MAX_DEFAULT,
  INTERNAL_BATCH_OPS_MAX,
  internalBatchBodyBytesMax,
  JSON_ESCAPE_EXPANSION_MAX,
  KEY_BYTES_MAX,
  RESPONSE_BYTES_MAX_DEFAULT,
  SINGLE_BODY_BYTES_MAX_DEFAULT,
  singleBodyBytesMax,
  SOCKET_IDLE_MS_DEFAULT,
  VALUE_BYTES_LIMIT,
  VALUE_BYTES_MAX_DEFAULT,
} from './limits';
export type { ProtocolLimits } from './limits';

// Validation
export { fitsUtf8Bytes, isWellFormedString, utf8ByteLength } from './utf8';
export { decodeKey, encodeKey, isDotSegment, validateKey } from './key';
export { validateValue } from './value';
export { parseQuorumParam } from './quorum-param';
export { bodyTooLarge, parseJsonBody } from './json-body';
export { assertKnownFields, assertKnownParams } from './known-fields';
export type { QueryLike } from './known-fields';
export { parseInternalPutBody, parsePutBody, parsePutTtl } from './put-body';
export { EXPIRES_AT_MAX, TTL_SECONDS_MAX, validateExpiresAt, validateTtl } from './ttl';
export { invalidOp, isInvalidOp } from './invalid-op';
export type { InvalidOp } from './invalid-op';
export { batchErrorResult, parsePublicBatch } from './public-batch';
export type { ParsedBatchOp } from './public-batch';
export {
  decodeEntryLine,
  decodeInternalBatch,
  decodeInternalResults,
  decodeReadResult,
  decodeWriteResult,
  encodeEntryLine,
  encodeInternalBatch,
  encodeInternalResults,
  INTERNAL_BATCH_MEDIA_TYPE,
  INTERNAL_ENTRIES_MEDIA_TYPE,
  internalOpError,
  isInternalOpError,
  kvErrorFromOpError,
  parseInternalBatch,
  readOpOf,
  readResultOf,
  writeOpOf,
  writeResultOf,
} from './internal-codec';
export type { DecodedEntry, DecodedWriteResult, InternalBatchLimits, InternalWrite, ParsedInternalOp } from './internal-codec';

// Messages
export { BatchOpName, isBatchErrorResult, parseKeyRange, PublicQuery, PublicRoutes } from './public-messages';
export type {
  BatchDelOp,
  BatchDelResult,
  BatchErrorResult,
  BatchGetOp,
  BatchGetResult,
  BatchOp,
  BatchRequest,
  BatchResponse,
  BatchResult,
  BatchSetOp,
  BatchSetResult,
  ClusterNode,
  ClusterResponse,
  RepairRequest,
  RepairStarted,
  RepairStatus,
  ClusterChange,
  ClusterChangePlan,
  ClusterChangeRequest,
  ClusterChangeStarted,
  DeleteResponse,
  GetResponse,
  HealthResponse,
  PutRequest,
  PutResponse,
  ReadyResponse,
} from './public-messages';
export {
  COORDINATOR_HEADER,
  DEADLINE_HEADER,
  EPOCH_HEADER,
  INCARNATION_HEADER,
  InternalOpTag,
  InternalQuery,
  InternalRoutes,
  PURGES_PER_REQUEST_MAX,
  REQUEST_ID_HEADER,
  VERSIONS_PER_REQUEST_MAX,
} from './internal-messages';
export type {
  DigestsRequest,
  DigestsResponse,
  PurgeRequest,
  PurgeResponse,
  VersionsRequest,
  VersionsResponse,
  WireRangeDigest,
  InternalBatchRequest,
  InternalBatchResponse,
  InternalDeleteOp,
  InternalEntry,
  InternalEntryLine,
  InternalGetOp,
  InternalOp,
  InternalOpError,
  InternalOpResult,
  InternalPutRequest,
  InternalReadResult,
  InternalSetOp,
  InternalWriteResponse,
  InternalWriteResult,
  FilledRequest,
  LiveCoordinator,
  NodeHealthResponse,
  NodeStatusResponse,
  StreamProgress,
  WalSyncMode,
} from './internal-messages';

// Versions
export {
  CLOCK_ID_LENGTH_MAX,
  compareVersions,
  decodeVersion,
  encodeVersion,
  isClockId,
  isNewerVersion,
  isVersion,
  validateVersion,
  VERSION_COUNTER_DIGITS,
  VERSION_COUNTER_MAX,
  VERSION_LENGTH_MAX,
  VERSION_MS_DIGITS,
  VERSION_MS_MAX,
  versionMs,
} from './version';
export type { VersionParts } from './version';
export { HLC_DRIFT_MS_MAX_DEFAULT, HybridClock } from './hybrid-clock';
export type { HybridClockOptions, WallClock } from './hybrid-clock';

// Clients
export type { AbortSignalLike, ClientOptions, ClientTlsOptions, RequestOptions } from './request-options';
export { isCertificateError, tokenToSend } from './http-endpoint';
export { CLIENT_SERVERS_MAX, CLIENT_SOCKETS_MAX_DEFAULT, CLIENT_TIMEOUT_MS_DEFAULT, KvClient } from './kv-client';
export type { KvBatchOptions, KvClientOptions, KvReadOptions, KvSetOptions, KvWriteOptions, ProxyProbe } from './kv-client';
export { isOutcomeUnknown, proxyErrorsOf } from './failover-errors';
export type { ProxyError } from './failover-errors';
export { NODE_CLIENT_SOCKETS_MAX_DEFAULT, NODE_TIMEOUT_MS_DEFAULT, NodeClient } from './node-client';
export type { NodeClientOptions } from './node-client';

// The cluster map
export {
  CLUSTER_MEMBERS_MAX,
  CLUSTER_VNODES_MAX,
  compareBallots,
  formatRanges,
  isNodeId,
  nodeUrlProblem,
  newRingMembers,
  oldRingMembers,
  parseRanges,
  RANGES_PER_REQUEST_MAX,
  validateBallot,
  validateClusterMap,
} from './cluster-map';
export type {
  AcceptRequest,
  Ballot,
  ClusterMap,
  ClusterMember,
  ClusterTransition,
  MapResponse,
  MemberState,
  PaxosReply,
  PrepareRequest,
  TransitionPhase,
  WireRange,
} from './cluster-map';
