/**
 * `@kv/quorum`: the coordinator core of kv. Strict quorums over a key's preference list (write tallies, read failover,
 * blocking read repair), hinted handoff, health probes, the lost-disk state machine with refills, versions with the
 * durable clock floor, and the batching transport. It does no I/O of its own but through its interfaces (transport,
 * stable store, hint store, clock and timers), each with an in-memory twin shipped here. See the README.
 */
export type { ReplicaEntry, Transport, VersionSource, WriteReply, WriteRequest } from './transport';
export type { Clock, ClockAndTimers, Timers } from './time';
export { afterThisTurn, systemClock } from './system-clock';
export {
  Coordinator,
  COORDINATOR_LEASE_MS_FLOOR,
  coordinatorLeaseMs,
  FLOOR_ADVANCE_INTERVAL_MS,
  HEALTH_INTERVAL_MS_DEFAULT,
  offsetClock,
} from './coordinator';
export { CoordinatorPresence, DuplicateCoordinatorError, DUPLICATE_WAIT_LEASES, JOIN_RETRY_MS } from './coordinator-presence';
export type { CoordinatorPresenceOptions, Register } from './coordinator-presence';
export {
  CoordinatorRegistry,
  COORDINATOR_LEASE_MS_MAX,
  COORDINATOR_LEASE_MS_MIN,
  COORDINATORS_MAX,
  formatCoordinatorClaim,
  parseCoordinatorClaim,
} from './coordinator-registry';
export type { Admission, CoordinatorClaim } from './coordinator-registry';
export { MAX_CLOCK_SKEW_MS_DEFAULT, ReplicaService } from './replica-service';
export type { RangeDigest, ReplicaServiceOptions, ReplicaStatus, VersionLine } from './replica-service';
export { EXPIRY_SWEEP_INTERVAL_MS_DEFAULT, EXPIRY_SWEEP_MAX_DEFAULT, ExpirySweeper } from './expiry-sweeper';
export type { CoordinatorEvents, CoordinatorOptions } from './coordinator';
export { CLOCK_ID_RECORD, resolveClockId } from './coordinator-identity';
export { CoordinatorVersions, FLOOR_HEADROOM_MS } from './coordinator-versions';
export type { CoordinatorVersionsOptions } from './coordinator-versions';
export { ClockFloor, CLOCK_FLOOR_LEAD_MS, CLOCK_FLOOR_MARGIN_MS, CLOCK_FLOOR_RECORD } from './clock-floor';
export { MemoryStableStore, checkRecordName } from './stable-store';
export type { StableStore } from './stable-store';
export { FileStableStore } from './file-stable-store';
export { NodeMembership, REFILL_RETRY_MS } from './node-membership';
export type { NodeDataState, NodeMembershipEvents, NodeMembershipOptions, NodeState } from './node-membership';
export { HealthProber } from './health-prober';
export type { HealthProberOptions, Probe, ProbeAnswer } from './health-prober';
export { PeriodicTask } from './periodic-task';
export { WriteTally } from './write-tally';
export { ReadTally } from './read-tally';
export type { ReadReply, ReadStep } from './read-tally';
export type { TallyState } from './tally';
export { applyReplicaOps } from './replica-ops';
export type { HeldEntry, ReplicaStore } from './replica-ops';
export { MemoryReplicaStore } from './in-memory/memory-replica-store';
export {
  Replicator,
  REPLICAS_DEFAULT,
  WRITE_QUORUM_DEFAULT,
  READ_QUORUM_DEFAULT,
  REPLICA_TIMEOUT_MS_DEFAULT,
  CONFLICT_KEYS_MAX,
} from './replicator';
export type {
  Expiry,
  ManyEntry,
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
export { HINTS_MAX_BYTES_DEFAULT, HINTS_MAX_DEFAULT, HintIndex, MemoryHintStore, hintBytes, hintId } from './hint-store';
export type { Hint, HintStore, MemoryHintStoreOptions } from './hint-store';
export { DurableHintStore, HINT_DISK_RETRY_MS_DEFAULT } from './durable-hint-store';
export type { DurableHintStoreEvents, DurableHintStoreOptions } from './durable-hint-store';
export { HintReplayer, HINT_BATCH_MAX_DEFAULT, HINT_REPLAY_INTERVAL_MS_DEFAULT } from './hint-replayer';
export type { HintReplayerOptions, ReplayRound } from './hint-replayer';
export {
  BatchingTransport,
  OutgoingBatch,
  REPLICA_BATCH_OPS_MAX_DEFAULT,
  REPLICA_BATCH_BYTES_MAX_DEFAULT,
  IN_FLIGHT_MAX_DEFAULT,
  QUEUE_OPS_MAX_DEFAULT,
} from './batching-transport';
export type { BatchSender, BatchingTransportOptions } from './batching-transport';
export { HttpBatchSender } from './http-batch-sender';
export { RequestScope, RequestEndedError, deadlinePassed } from './request-scope';
export type { BatchObserver } from './http-batch-sender';
export { InMemoryCluster, replicaStates } from './in-memory/in-memory-cluster';
export type { FaultPolicy, InMemoryClusterOptions, NodeFault } from './in-memory/in-memory-cluster';
export { InMemoryNode } from './in-memory/in-memory-node';
export { VirtualClock } from './in-memory/virtual-clock';
export { Refiller, REFILL_WRITES_IN_FLIGHT_MAX_DEFAULT } from './refiller';
export type { EntrySource, ListedEntry, RefillReport, RefillerOptions } from './refiller';
export type { AntiEntropySettings, ChangeAnswer, ClusterMapOptions } from './coordinator';
export { KeyIndex, KEY_BUCKET_BITS, EMPTY_DIGEST, bucketParts, intersectRanges } from './key-index';
export type { BucketDigest, PartDigest } from './key-index';
export { ANTI_ENTROPY_KEYS_PER_S_DEFAULT, AntiEntropy, RepairRefusedError, ringRanges } from './anti-entropy';
export type { AntiEntropyEvents, AntiEntropyOptions, AntiEntropyPeers, RepairProgress, RingRange } from './anti-entropy';
export { EMPTY_ACCEPTOR_STATE, MapAcceptor } from './map-acceptor';
export type { AcceptorState } from './map-acceptor';
export { MapProposer, NoMajorityError, sameMap } from './map-proposer';
export type { MapPeers, MapProposerOptions, ProposalOutcome } from './map-proposer';
export { ClusterMapKeeper } from './cluster-map-keeper';
export type { ClusterMapKeeperOptions } from './cluster-map-keeper';
export { nextPhase, newRingOf, oldRingOf, planChange, startChange, streamTasks } from './cluster-change';
export type { ChangePlan, ChangeRequest, StreamTask } from './cluster-change';
export { ChangeDriver, StreamError } from './change-driver';
export type { ChangeDriverEvents, ChangeDriverOptions, ChangeProgress, StreamPeers } from './change-driver';
export { mapPlacement, ringPlacement } from './placement';
export type { Placement, WriteSet } from './placement';
