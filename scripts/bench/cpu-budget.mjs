// The CPU budget of one request (docs/benchmarks.md, CPU per request): how many µs of CPU the proxy and each data node
// spend per PUT and per GET, from the processes' own counters (/proc/<pid>/stat), split by where it goes from a V8 CPU
// profile (`node --cpu-prof`) of the same load. Plain JavaScript so that `node --test` runs its tests
// (cpu-budget.test.mjs); scripts/bench/run.ts uses it through cpu-budget.d.mts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (`getconf CLK_TCK`, 100 on Linux). */
export const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * utime and stime (clock ticks) of a /proc/<pid>/stat line. The command name (field 2) may hold spaces and
 * parentheses: fields are counted after its last closing parenthesis, where utime and stime are the 12th and 13th.
 */
export function parseProcStat(text) {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 60)}`);
  const fields = text.slice(close + 2).trim().split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`no utime/stime in: ${text.slice(0, 60)}`);
  return { utime, stime };
}

/** Reads the CPU counters of the processes of a run: `stat(pid)` returns their /proc/<pid>/stat text. */
export class CpuMeter {
  /**
   * @param pids name → pid of each process metered
   * @param stat reads /proc/<pid>/stat (replaced in tests)
   */
  constructor(pids, stat = (pid) => readFileSync(`/proc/${pid}/stat`, 'utf8')) {
    this.pids = pids;
    this.stat = stat;
    this.before = undefined;
    this.after = undefined;
  }

  snapshot() {
    return Object.fromEntries(Object.entries(this.pids).map(([name, pid]) => [name, parseProcStat(this.stat(pid))]));
  }

  start() {
    this.before = this.snapshot();
    this.after = undefined;
  }

  stop() {
    if (this.before === undefined) throw new Error('CpuMeter.stop before start');
    this.after = this.snapshot();
  }

  /** µs of user and of system CPU per request of each process between start and stop. */
  perRequest(requests) {
    if (this.before === undefined || this.after === undefined) throw new Error('CpuMeter.perRequest before start and stop');
    if (!(requests > 0)) throw new Error(`no requests to divide by: ${requests}`);
    const us = (ticks) => (ticks / CLOCK_TICKS) * 1e6;
    const result = {};
    for (const name of Object.keys(this.pids)) {
      const b = this.before[name];
      const a = this.after[name];
      result[name] = { userUs: us(a.utime - b.utime) / requests, systemUs: us(a.stime - b.stime) / requests };
    }
    return result;
  }
}

/**
 * The source files of an esbuild bundle by line: esbuild starts the code of each module with a `// <path>` comment
 * (`// libs/quorum/src/coordinator.ts`). Returns ranges sorted by first line (1-based), each up to the next comment.
 */
export function bundleModules(bundleText) {
  const modules = [];
  const lines = bundleText.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^\/\/ ((?:apps|libs)\/\S+\.ts)$/.exec(lines[i]);
    if (match !== null) modules.push({ firstLine: i + 1, file: match[1] });
  }
  return modules;
}

/** The source file of a 1-based line of a bundle whose modules are `modules` ({@link bundleModules}), or undefined. */
export function sourceOf(modules, line) {
  let lo = 0;
  let hi = modules.length - 1;
  let found;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (modules[mid].firstLine <= line) {
      found = modules[mid].file;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The categories of the budget, in the order of the table; `kernel: ...` ones split system CPU, the others user CPU. */
export const USER_CATEGORIES = ['HTTP serving', 'replication client', 'encoding', 'coordination', 'store & digests', 'WAL', 'GC', 'event loop', 'other'];
export const KERNEL_CATEGORIES = ['kernel: socket I/O', 'kernel: WAL writes', 'kernel: fsync'];

/** Source files (or their folders) of the repository → category; the first match wins. */
const SOURCE_RULES = [
  // libs/wal holds the in-memory store beside its log: the map and its entries are the store, the rest the WAL.
  [/^libs\/wal\/src\/(store|entry-table|entry|version-clock)\.ts$/, 'store & digests'],
  [/^libs\/wal\//, 'WAL'],
  [/^libs\/quorum\/src\/(key-index|replica-service|replica-ops|expiry-sweeper)\.ts$/, 'store & digests'],
  [/^libs\/protocol\/src\/(internal-codec|internal-messages|json-body|put-body|batch-body|public-batch|public-messages|value|key|utf8|version|known-fields|ttl)\.ts$/, 'encoding'],
  [/^libs\/protocol\/src\/(node-client|http-endpoint|keep-alive-agent)\.ts$/, 'replication client'],
  [/^libs\/quorum\/src\/(batching-transport|http-batch-sender)\.ts$/, 'replication client'],
  [/^libs\/(quorum|ring)\//, 'coordination'],
  [/^libs\/service\/src\/(http|in-flight|server-shell|tokens)\.ts$/, 'HTTP serving'],
  [/^apps\/(proxy|datanode)\/src\/(app|public-api|request-deadline|batch-answer)\.ts$/, 'HTTP serving'],
];

/** node_modules packages → category. */
const PACKAGE_RULES = [
  [/\/node_modules\/(axios|follow-redirects|form-data|proxy-from-env)\//, 'replication client'],
  [/\/node_modules\/(express|router|body-parser|raw-body|finalhandler|send|serve-static|on-finished|type-is|content-type|qs)\//, 'HTTP serving'],
];

/** Node's own modules → category, where the module alone tells (the HTTP parser and sockets are shared by both sides). */
const NODE_RULES = [
  [/^node:_http_server$/, 'HTTP serving'],
  [/^node:_http_client$|^node:_http_agent$/, 'replication client'],
  [/^node:internal\/(timers|process\/task_queues|async_hooks|process\/promises)$|^node:timers$|^node:internal\/stream_base_commons$/, 'event loop'],
];

/** Frames of startup and module loading, left out of the budget: they do not recur per request. */
const STARTUP = /^node:internal\/(modules|bootstrap|main|process\/pre_execution|deps\/undici)|^node:internal\/deps\/cjs-module-lexer/;
const STARTUP_FUNCTIONS = new Set(['readFileUtf8', 'internalModuleStat', 'compileFunction', 'compileFunctionForCJSLoader']);

/** Native frames that are a system call of their own (their self time is mostly the kernel's). */
const SOCKET_WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String']);
const FILE_WRITES = new Set(['writev', 'writeBuffers', 'writeBuffer', 'writeString']);
const SYNCS = new Set(['fdatasync', 'fsync']);

/**
 * The category of a profile frame from its own call frame only, or undefined when it takes its caller's.
 * `frame`: { functionName, url, lineNumber (0-based, as in .cpuprofile) }; `modulesOf(url)`: the bundle's modules
 * ({@link bundleModules}) when `url` is a bundle, else undefined.
 */
export function categoryOf(frame, modulesOf = () => undefined) {
  const { functionName, url } = frame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'other';
  if (functionName === '(root)') return undefined;
  if (STARTUP.test(url) || (url === '' && STARTUP_FUNCTIONS.has(functionName))) return 'startup';
  const modules = modulesOf(url);
  if (modules !== undefined) {
    const file = sourceOf(modules, frame.lineNumber + 1);
    if (file === undefined) return undefined;
    return SOURCE_RULES.find(([pattern]) => pattern.test(file))?.[1];
  }
  for (const [pattern, category] of PACKAGE_RULES) if (pattern.test(url)) return category;
  for (const [pattern, category] of NODE_RULES) if (pattern.test(url)) return category;
  return undefined;
}

/**
 * Share of the profile's self time in each category (idle and startup left out; they sum to 1). A frame without a
 * category of its own takes its nearest categorised caller's (a Node internal called from the WAL is the WAL's); a
 * native write takes a kernel category: under the WAL a file write, elsewhere a socket write; `fdatasync`/`fsync`
 * are fsync. Frames with no categorised caller are "other".
 */
export function profileShares(profile, modulesOf = () => undefined) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const own = new Map();
  const category = (id) => {
    if (own.has(id)) return own.get(id);
    const node = byId.get(id);
    const frame = node.callFrame;
    let result = categoryOf(frame, modulesOf);
    if (result === undefined || frame.url === '') {
      const up = parent.has(id) ? category(parent.get(id)) : undefined;
      if (frame.url === '' && result === undefined && up !== 'startup' && up !== 'idle') {
        if (SYNCS.has(frame.functionName)) result = 'kernel: fsync';
        else if (up === 'WAL' && FILE_WRITES.has(frame.functionName)) result = 'kernel: WAL writes';
        else if (SOCKET_WRITES.has(frame.functionName)) result = 'kernel: socket I/O';
      }
      if (result === undefined) result = up ?? 'other';
    }
    own.set(id, result);
    return result;
  };
  // Self time per node: the samples that hit it, weighted by the time since the previous sample.
  const selfUs = new Map();
  const deltas = profile.timeDeltas ?? [];
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 1)));
  const totals = {};
  let sum = 0;
  for (const [id, us] of selfUs) {
    const c = category(id);
    if (c === 'idle' || c === 'startup') continue;
    totals[c] = (totals[c] ?? 0) + us;
    sum += us;
  }
  const shares = {};
  for (const [c, us] of Object.entries(totals)) shares[c] = sum === 0 ? 0 : us / sum;
  return shares;
}

/**
 * µs per request in each category: the unprofiled run's user CPU split by the shares of the user categories (among
 * themselves), its system CPU by the shares of the kernel categories; system CPU when no kernel frame was sampled
 * goes to "kernel: other". A profile slows its process, so only the split comes from it.
 */
export function splitBudget(measured, shares) {
  const split = (categories, total) => {
    const sum = categories.reduce((s, c) => s + (shares[c] ?? 0), 0);
    return Object.fromEntries(categories.map((c) => [c, sum === 0 ? 0 : (total * (shares[c] ?? 0)) / sum]));
  };
  const kernelSum = KERNEL_CATEGORIES.reduce((s, c) => s + (shares[c] ?? 0), 0);
  return {
    totalUs: measured.userUs + measured.systemUs,
    userUs: measured.userUs,
    systemUs: measured.systemUs,
    categories: {
      ...split(USER_CATEGORIES, measured.userUs),
      ...split(KERNEL_CATEGORIES, measured.systemUs),
      ...(kernelSum === 0 ? { 'kernel: other': measured.systemUs } : {}),
    },
  };
}

/**
 * The markdown tables of budgets: one per operation, a row per process. `budgets`: [{ op, process, budget }] with
 * `budget` from {@link splitBudget}. Categories nowhere above 0.05 µs are left out.
 */
export function budgetTables(budgets) {
  const ops = [...new Set(budgets.map((b) => b.op))];
  const all = [...USER_CATEGORIES, ...KERNEL_CATEGORIES, 'kernel: other'];
  const used = all.filter((c) => budgets.some((b) => (b.budget.categories[c] ?? 0) >= 0.05));
  const f = (n) => (n ?? 0).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const tables = ops.map((op) => {
    const rows = budgets.filter((b) => b.op === op);
    return [
      `| ${op} | CPU µs per ${op} | user / system | ${used.join(' | ')} |`,
      `|---|---:|---:|${used.map(() => '---:').join('|')}|`,
      ...rows.map((b) => `| ${b.process} | **${f(b.budget.totalUs)}** | ${f(b.budget.userUs)} / ${f(b.budget.systemUs)} | ${used.map((c) => f(b.budget.categories[c])).join(' | ')} |`),
    ].join('\n');
  });
  return tables.join('\n\n');
}
