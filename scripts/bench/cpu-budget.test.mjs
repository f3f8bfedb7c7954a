// Tests of the CPU budget's parsing and attribution (cpu-budget.mjs) on synthetic stat lines and profiles.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CLOCK_TICKS, CpuMeter, budgetTables, bundleModules, categoryOf, parseProcStat, profileShares, sourceOf, splitBudget } from './cpu-budget.mjs';

/** A stat line whose command name holds spaces and a parenthesis, with utime and stime as given. */
const statLine = (utime, stime) => `4242 (node (x) y) S 1 4242 4242 0 -1 4194304 2174 0 13 0 ${utime} ${stime} 0 0 20 0 11 0 3383624 7`;

describe('parseProcStat', () => {
  test('reads utime and stime after the last parenthesis', () => {
    assert.deepEqual(parseProcStat(statLine(612, 37)), { utime: 612, stime: 37 });
  });
  test('refuses a line without a command name', () => {
    assert.throws(() => parseProcStat('garbage'));
  });
});

describe('CpuMeter', () => {
  test('gives µs of user and system CPU per request of each process', () => {
    const ticks = { 1: [100, 10], 2: [50, 5] };
    const meter = new CpuMeter({ proxy: 1, node1: 2 }, (pid) => statLine(...ticks[pid]));
    meter.start();
    ticks[1] = [100 + CLOCK_TICKS, 10 + CLOCK_TICKS / 2]; // 1 s user, 0.5 s system
    ticks[2] = [50 + CLOCK_TICKS / 10, 5];
    meter.stop();
    const per = meter.perRequest(1000);
    assert.equal(per.proxy.userUs, 1000);
    assert.equal(per.proxy.systemUs, 500);
    assert.equal(per.node1.userUs, 100);
    assert.equal(per.node1.systemUs, 0);
  });
  test('refuses to divide by no requests', () => {
    const meter = new CpuMeter({ proxy: 1 }, () => statLine(1, 1));
    meter.start();
    meter.stop();
    assert.throws(() => meter.perRequest(0));
  });
});

const BUNDLE = ['"use strict";', '// libs/wal/src/wal.ts', 'function append() {}', '// libs/quorum/src/coordinator.ts', 'function put() {}', '// apps/proxy/src/app.ts', 'function handle() {}'].join('\n');
const URL = 'file:///repo/dist/apps/proxy/main.js';
const modulesOf = (url) => (url === URL ? bundleModules(BUNDLE) : undefined);

describe('bundleModules', () => {
  test('maps bundle lines to the source file of their module', () => {
    const modules = bundleModules(BUNDLE);
    assert.deepEqual(modules.map((m) => m.file), ['libs/wal/src/wal.ts', 'libs/quorum/src/coordinator.ts', 'apps/proxy/src/app.ts']);
    assert.equal(sourceOf(modules, 1), undefined);
    assert.equal(sourceOf(modules, 3), 'libs/wal/src/wal.ts');
    assert.equal(sourceOf(modules, 4), 'libs/quorum/src/coordinator.ts');
    assert.equal(sourceOf(modules, 7), 'apps/proxy/src/app.ts');
  });
});

describe('categoryOf', () => {
  test('categorises bundle frames by source file, packages, Node modules and special frames', () => {
    assert.equal(categoryOf({ functionName: 'append', url: URL, lineNumber: 2 }, modulesOf), 'WAL');
    assert.equal(categoryOf({ functionName: 'put', url: URL, lineNumber: 4 }, modulesOf), 'coordination');
    const store = bundleModules('// libs/wal/src/store.ts\nfunction get() {}');
    assert.equal(categoryOf({ functionName: 'get', url: URL, lineNumber: 1 }, () => store), 'store & digests');
    assert.equal(categoryOf({ functionName: 'handle', url: URL, lineNumber: 6 }, modulesOf), 'HTTP serving');
    assert.equal(categoryOf({ functionName: 'request', url: 'file:///repo/node_modules/axios/lib/core/Axios.js', lineNumber: 1 }), 'replication client');
    assert.equal(categoryOf({ functionName: 'parserOnIncoming', url: 'node:_http_server', lineNumber: 1 }), 'HTTP serving');
    assert.equal(categoryOf({ functionName: '(garbage collector)', url: '', lineNumber: -1 }), 'GC');
    assert.equal(categoryOf({ functionName: '(idle)', url: '', lineNumber: -1 }), 'idle');
    assert.equal(categoryOf({ functionName: 'require', url: 'node:internal/modules/cjs/loader', lineNumber: 1 }), 'startup');
    assert.equal(categoryOf({ functionName: 'emit', url: 'node:_http_common', lineNumber: 1 }), undefined);
  });
});

/** A profile from [id, parent, functionName, url, lineNumber] rows and the node hit by each 1-µs sample. */
function profile(rows, samples) {
  const nodes = rows.map(([id, , functionName, url, lineNumber]) => ({ id, callFrame: { functionName, url, lineNumber }, children: [] }));
  for (const [id, parent] of rows) if (parent !== undefined) nodes.find((n) => n.id === parent).children.push(id);
  return { nodes, samples, timeDeltas: samples.map(() => 1) };
}

describe('profileShares', () => {
  const p = profile(
    [
      [1, undefined, '(root)', '', -1],
      [2, 1, '(idle)', '', -1],
      [3, 1, 'append', URL, 2],
      [4, 3, 'writeBuffers', '', -1], // a file write under the WAL
      [5, 3, 'fdatasync', '', -1],
      [6, 1, 'handle', URL, 6],
      [7, 6, 'writev', '', -1], // a socket write under HTTP serving
      [8, 6, 'emit', 'node:events', 1], // takes its caller's category
      [13, 1, 'listOnTimeout', 'node:internal/timers', 1],
      [9, 1, 'parse', 'node:_http_common', 1], // no categorised caller
      [10, 1, '(garbage collector)', '', -1],
      [11, 1, 'require', 'node:internal/modules/cjs/loader', 1],
      [12, 11, 'readFileUtf8', '', -1],
    ],
    [2, 2, 2, 3, 3, 4, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13],
  );
  const shares = profileShares(p, modulesOf);
  test('leaves idle and startup out and sums to 1', () => {
    assert.equal(shares.idle, undefined);
    assert.equal(shares.startup, undefined);
    assert.ok(Math.abs(Object.values(shares).reduce((a, b) => a + b, 0) - 1) < 1e-9);
  });
  test('attributes frames, native writes and frames without a category of their own', () => {
    const of = (n) => n / 12;
    assert.equal(shares.WAL, of(2));
    assert.equal(shares['kernel: WAL writes'], of(1));
    assert.equal(shares['kernel: fsync'], of(1));
    assert.equal(shares['HTTP serving'], of(3));
    assert.equal(shares['kernel: socket I/O'], of(2));
    assert.equal(shares['event loop'], of(1));
    assert.equal(shares.other, of(1));
    assert.equal(shares.GC, of(1));
  });
});

describe('splitBudget', () => {
  test('splits user CPU by the user shares and system CPU by the kernel shares', () => {
    const budget = splitBudget({ userUs: 80, systemUs: 20 }, { WAL: 0.3, GC: 0.1, 'kernel: WAL writes': 0.05, 'kernel: fsync': 0.15 });
    assert.equal(budget.totalUs, 100);
    assert.equal(budget.categories.WAL, 60);
    assert.equal(budget.categories.GC, 20);
    assert.equal(budget.categories['kernel: WAL writes'], 5);
    assert.equal(budget.categories['kernel: fsync'], 15);
    assert.equal(budget.categories['kernel: other'], undefined);
  });
  test('puts system CPU into "kernel: other" when no kernel frame was sampled', () => {
    const budget = splitBudget({ userUs: 10, systemUs: 4 }, { other: 1 });
    assert.equal(budget.categories.other, 10);
    assert.equal(budget.categories['kernel: other'], 4);
  });
});

describe('budgetTables', () => {
  test('one table per operation, a row per process, unused categories left out', () => {
    const budget = splitBudget({ userUs: 10, systemUs: 2 }, { WAL: 1, 'kernel: fsync': 1 });
    const text = budgetTables([
      { op: 'PUT', process: 'node1', budget },
      { op: 'GET', process: 'node1', budget },
    ]);
    const tables = text.split('\n\n');
    assert.equal(tables.length, 2);
    assert.match(tables[0], /^\| PUT \| CPU µs per PUT \| user \/ system \| WAL \| kernel: fsync \|/);
    assert.match(tables[0], /\| node1 \| \*\*12\.0\*\* \| 10\.0 \/ 2\.0 \| 10\.0 \| 2\.0 \|/);
    assert.doesNotMatch(tables[0], /GC/);
  });
});
