import type { ScenarioOptions } from './scenario';

/** A scenario of the catalogue: everything but the seed and the duration. */
export type ScenarioTemplate = Omit<ScenarioOptions, 'seed' | 'durationMs' | 'log'>;

/**
 * Settings of the delete scenarios: tombstones are collected after the shortest grace the proxy accepts (2 x the clock
 * skew + 10 x the request deadline), and the driver runs a round every 2 s, so that collection happens within a run.
 */
export const DELETE_SETTINGS = {
  proxyEnv: { ANTI_ENTROPY_INTERVAL_MS: '2000', ANTI_ENTROPY_PAUSE_MS: '0', TOMBSTONE_GRACE_MS: '12000', MAX_CLOCK_SKEW_MS: '1000', REQUEST_TIMEOUT_MS: '1000' },
  nodeEnv: { MAX_CLOCK_SKEW_MS: '1000' },
} as const;

/**
 * The scenarios that the chaos runs cycle through: each workload against each family of faults, with the default
 * settings (W=2, R=2, blocking read repair, durable clock floor), where every check must pass.
 */
export const SCENARIOS: readonly ScenarioTemplate[] = [
  { name: 'register/kill-node', workload: 'register', nemeses: ['kill-node'] },
  { name: 'register/resp-kill-node', workload: 'register', protocol: 'resp', nemeses: ['kill-node'] },
  { name: 'register/partition', workload: 'register', nemeses: ['cut-link', 'cut-two-links', 'reset-link', 'slow-link'] },
  { name: 'register/pause-node', workload: 'register', nemeses: ['pause-node'] },
  { name: 'register/kill-all', workload: 'register', nemeses: ['kill-all'], faultMs: [200, 1000] },
  { name: 'register/proxy-clock-back', workload: 'register', nemeses: ['proxy-clock-back'] },
  { name: 'register/wipe-node', workload: 'register', nemeses: ['wipe-node'] },
  { name: 'set/kill-and-partition', workload: 'set', nemeses: ['kill-node', 'cut-link', 'pause-node'] },
  { name: 'set/wipe-node', workload: 'set', nemeses: ['wipe-node', 'kill-node'] },
  {
    name: 'register/proxies-2',
    workload: 'register',
    proxies: 2,
    nemeses: ['kill-node', 'pause-node', 'cut-link', 'kill-proxy', 'pause-proxy', 'restart-proxy', 'proxy-clock-skew'],
  },
  {
    name: 'register/proxies-3',
    workload: 'register',
    proxies: 3,
    nemeses: ['kill-node', 'pause-node', 'reset-link', 'kill-proxy', 'kill-all-proxies', 'pause-proxy', 'pause-all-proxies', 'proxy-clock-skew', 'wipe-node'],
  },
  { name: 'set/proxies-2', workload: 'set', proxies: 2, nemeses: ['kill-node', 'kill-proxy', 'pause-proxy', 'proxy-clock-skew'] },
  // Membership changes run in the background while other faults come; listed twice to come up as often as the rest.
  {
    name: 'register/membership',
    workload: 'register',
    proxies: 2,
    nemeses: ['change-membership', 'change-membership', 'kill-node', 'pause-node', 'kill-proxy', 'pause-proxy'],
  },
  {
    name: 'set/membership',
    workload: 'set',
    proxies: 2,
    nemeses: ['change-membership', 'change-membership', 'kill-node', 'cut-link', 'kill-proxy', 'restart-proxy'],
  },
  // Disks that fill or fail under a data node's log or a proxy's hint log, with crashes and partitions between.
  { name: 'register/disk-faults', workload: 'register', nemeses: ['node-disk-fault', 'hint-disk-fault', 'cut-link', 'kill-node'] },
  { name: 'set/disk-faults', workload: 'set', nemeses: ['node-disk-fault', 'hint-disk-fault', 'kill-node', 'reset-link'] },
  // Deletes under faults, with tombstones collected after a short grace: no deleted value may come back.
  { name: 'delete/kill-and-partition', workload: 'delete', nemeses: ['kill-node', 'cut-link', 'pause-node', 'wipe-node'], ...DELETE_SETTINGS },
  // Sets with a short ttl, plain sets, deletes and reads over shared keys under the same faults: no expired, overwritten
  // or deleted value may come back, and expired values are collected like deletes. No clock nemesis: see ttlClockBoundMs.
  { name: 'ttl/kill-and-partition', workload: 'ttl', nemeses: ['kill-node', 'cut-link', 'pause-node', 'wipe-node'], ...DELETE_SETTINGS },
  {
    name: 'register/everything',
    workload: 'register',
    nemeses: ['kill-node', 'kill-all', 'pause-node', 'cut-link', 'cut-two-links', 'slow-link', 'reset-link', 'proxy-clock-back', 'wipe-node'],
  },
];

/** The scenarios of the short profile that `npm test` runs. */
export const CI_SCENARIOS: readonly string[] = [
  'register/kill-node',
  'register/resp-kill-node',
  'register/partition',
  'set/kill-and-partition',
  'register/proxies-2',
  'register/proxies-3',
  'register/membership',
  'set/membership',
  'set/disk-faults',
  'register/everything',
  'delete/kill-and-partition',
];
