/**
 * Compliance suites of `@kv/quorum`'s interfaces, for jest: run them against every implementation (the in-memory
 * twins here, the HTTP transport against real data nodes in the end-to-end suites). Not part of the published package.
 */
export { describeHintStoreCompliance } from './hint-store-compliance';
export type { HintStoreFixture } from './hint-store-compliance';
export { describeTransportCompliance } from './transport-compliance';
export type { TransportFixture } from './transport-compliance';
