// Cluster launcher and fault injection.
export { ManagedProcess } from './cluster/managed-process';
export type { ManagedProcessOptions } from './cluster/managed-process';
export { TcpRelay } from './cluster/tcp-relay';
export type { RelayMode } from './cluster/tcp-relay';
export { TestCluster, TestProxy, entryPoint, freePort, repoRoot, waitForHealth, waitForPort, waitForSettled } from './cluster/test-cluster';
export type { StartProxyOptions, TestClusterOptions, TestNode } from './cluster/test-cluster';
export { diskFaultFile, keepClusterFiles } from './cluster/test-cluster';

// System tools: present, skipped with one line, or (CI=true) required.
export { requireTool } from './tools/require-tool';

// HTTP helpers for tests.
export { eventually, request } from './http/request';
export type { Answer } from './http/request';

// History checkers: register linearizability, set, convergence, and their text reports.
export { checkConvergence } from './checker/check-convergence';
export type {
  ConvergenceCheckOptions,
  ConvergenceCheckResult,
  DivergenceKind,
  KeyDivergence,
  ReplicaState,
  ReplicaStates,
} from './checker/check-convergence';
export { checkRegister } from './checker/check-register';
export type { RegisterCheckOptions, RegisterCheckResult, RegisterKeyResult, Verdict } from './checker/check-register';
export { checkSet } from './checker/check-set';
export type { SetCheckResult, SetInsert, UnexpectedElement } from './checker/check-set';
export { describeOperation } from './checker/describe-operation';
export { formatReport } from './checker/format-report';
export type { CheckResult, FormatReportOptions } from './checker/format-report';
export { assertHistory } from './checker/history';
export type { History, Operation, OpKind, Outcome } from './checker/history';
export type { DroppedOperations } from './checker/key-history';
export {
  EXPLANATION_STEPS_MAX,
  REGISTER_STEPS_MAX_DEFAULT,
  REGISTER_TIME_MS_MAX_DEFAULT,
  REPORT_DETAILS_MAX_DEFAULT,
  VIOLATION_CONCURRENT_OPS_MAX,
  VIOLATION_PREFIX_OPS_MAX,
} from './checker/limits';
export type { RegisterViolation } from './checker/register-violation';

// Chaos: workloads, nemeses, scenarios.
export { CI_SCENARIOS, DELETE_SETTINGS, SCENARIOS } from './chaos/catalogue';
export { checkDeletes, formatDeletes } from './checker/check-deletes';
export { checkTtl, formatTtl } from './checker/check-ttl';
export type { TtlCheckOptions, TtlCheckResult, TtlOperation, TtlViolation, TtlViolationKind } from './checker/check-ttl';
export type { DeleteCheckResult, DeletedKey, Resurrection } from './checker/check-deletes';
export type { ScenarioTemplate } from './chaos/catalogue';
export { NEMESIS_NAMES, healAll, nemesisByName } from './chaos/nemeses';
export type { Nemesis, NemesisName } from './chaos/nemeses';
export { Random, seedFromEnv } from './chaos/random';
export { runScenario, summarize, ttlClockBoundMs } from './chaos/scenario';
export { SOAK_SETTINGS, formatSample, formatSoak, runTombstoneSoak } from './chaos/tombstone-soak';
export type { SoakNodeSample, SoakSample, TombstoneSoakOptions, TombstoneSoakResult } from './chaos/tombstone-soak';
export type { ScenarioOptions, ScenarioResult } from './chaos/scenario';
export { WORKLOAD_REQUEST_TIMEOUT_MS, runDeleteWorkload, runRegisterWorkload, runSetWorkload, runTtlWorkload } from './chaos/workloads';
export type { RegisterWorkloadOptions, SetWorkloadOptions, SetWorkloadResult, StopSignal, TtlWorkloadOptions, TtlWorkloadResult } from './chaos/workloads';
export { HistoryRecorder } from './chaos/recorder';
