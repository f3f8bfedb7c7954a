export type { Clock, ReplicaEntry, Timers, Transport, VersionSource, WriteReply, WriteRequest } from './transport';
export { systemClock } from './transport';
export {
  Replicator,
  REPLICAS_DEFAULT,
  WRITE_QUORUM_DEFAULT,
  READ_QUORUM_DEFAULT,
  REPLICA_TIMEOUT_MS_DEFAULT,
  WRITE_ATTEMPTS_MAX,
} from './replicator';
export type {
  PreferenceLists,
  ReadOptions,
  ReadRepairMode,
  ReadResult,
  ReplicatorEvents,
  ReplicatorOptions,
  WriteOptions,
  WriteResult,
} from './replicator';
export { QuorumError } from './quorum-error';
export { NodeHealth } from './node-health';
export type { NodeHealthListener, NodeHealthOptions, NodeStatus } from './node-health';
export { HINTS_MAX_DEFAULT, HintIndex, MemoryHintStore, hintId } from './hint-store';
export type { Hint, HintStore, MemoryHintStoreOptions } from './hint-store';
export { DurableHintStore } from './durable-hint-store';
export type { DurableHintStoreOptions } from './durable-hint-store';
export { HintReplayer, HINT_BATCH_MAX_DEFAULT, HINT_REPLAY_INTERVAL_MS_DEFAULT } from './hint-replayer';
export type { HintReplayerOptions, ReplayRound } from './hint-replayer';
export {
  BatchingTransport,
  OutgoingBatch,
  BATCH_OPS_MAX_DEFAULT,
  BATCH_BYTES_MAX_DEFAULT,
  IN_FLIGHT_MAX_DEFAULT,
  QUEUE_OPS_MAX_DEFAULT,
} from './batching-transport';
export type { BatchSender, BatchingTransportOptions } from './batching-transport';
export { InMemoryCluster, replicaStates } from './in-memory/in-memory-cluster';
export type { FaultPolicy, InMemoryClusterOptions, NodeFault } from './in-memory/in-memory-cluster';
export { InMemoryNode } from './in-memory/in-memory-node';
export { VirtualClock } from './in-memory/virtual-clock';
export { Refiller, REFILL_WRITES_IN_FLIGHT_MAX_DEFAULT } from './refiller';
export type { EntrySource, ListedEntry, RefillReport, RefillerOptions } from './refiller';
