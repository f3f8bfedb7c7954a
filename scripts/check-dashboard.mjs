// Checks the Grafana dashboard (deploy/grafana/kv.json) against the Prometheus metrics the code exports, so that a
// metric renamed or removed in the code fails a test instead of leaving an empty panel.
//
// Usage: node scripts/check-dashboard.mjs [dashboard.json]   (default: deploy/grafana/kv.json)
//
// The exported names are read from the code, never from a list kept by hand:
//  - every `new Counter|Gauge|Histogram|Summary({ ... name: '...' })` in apps/*/src and libs/*/src (tests excluded);
//  - the process metrics prom-client's collectDefaultMetrics registers (what libs/service's createRegistry calls);
// with the series Prometheus sees: a histogram's <name>_bucket, _sum and _count, a summary's <name>, _sum and _count.
// Every metric name in every panel's PromQL must be one of them. Prints one line when the dashboard passes, one line
// per unknown name otherwise. Exits 0 when it passes, 1 when it does not, 2 on an unreadable file.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Constructors of prom-client metrics, and the series each kind is scraped as. */
const SUFFIXES = { Counter: [''], Gauge: [''], Histogram: ['_bucket', '_sum', '_count'], Summary: ['', '_sum', '_count'] };
const DECLARATION = /new\s+(Counter|Gauge|Histogram|Summary)\b(?:<[^>]*>)?\s*\(\s*\{([\s\S]*?)\bname:\s*(['"`])([a-zA-Z_:][a-zA-Z0-9_:]*)\3/g;

/**
 * The metric declarations of TypeScript sources (their text): name and kind of each.
 * @param {string} text
 * @returns {{ name: string, kind: keyof typeof SUFFIXES }[]}
 */
export function declaredMetrics(text) {
  const found = [];
  for (const match of text.matchAll(DECLARATION)) {
    // The first `name:` of the options object: a nested object before it would have a closing brace.
    if (match[2].includes('}')) continue;
    found.push({ name: match[4], kind: match[1] });
  }
  return found;
}

/** Every .ts file under `dir`, tests left out. */
function sources(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name));
}

/**
 * The series names the code exports: the repository's own metrics and prom-client's default process metrics.
 * @returns {Promise<Set<string>>}
 */
export async function exportedSeries(repo = root) {
  const names = new Set();
  const add = (name, kind) => {
    for (const suffix of SUFFIXES[kind]) names.add(`${name}${suffix}`);
  };
  for (const group of ['apps', 'libs']) {
    for (const project of fs.readdirSync(path.join(repo, group))) {
      for (const file of sources(path.join(repo, group, project, 'src'))) {
        for (const { name, kind } of declaredMetrics(fs.readFileSync(file, 'utf8'))) add(name, kind);
      }
    }
  }
  const { Registry, collectDefaultMetrics } = require('prom-client');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const kinds = { counter: 'Counter', gauge: 'Gauge', histogram: 'Histogram', summary: 'Summary' };
  for (const metric of await registry.getMetricsAsJSON()) add(metric.name, kinds[metric.type] ?? 'Gauge');
  return names;
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads: label matchers, strings, durations, grouping labels, functions and
 * Grafana variables set aside.
 * @param {string} expr
 * @returns {string[]}
 */
export function metricNames(expr) {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\w+/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [];
  for (const match of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const token = match[0];
    const after = bare.slice(match.index + token.length);
    if (/^\s*\(/.test(after)) continue; // a function
    if (KEYWORDS.has(token.toLowerCase())) continue;
    if (/^\d/.test(token)) continue;
    // The rest of a number or a duration (1e3, offset 5m) is not a name.
    if (/[0-9.]$/.test(bare.slice(0, match.index))) continue;
    names.push(token);
  }
  return names;
}

/**
 * Every PromQL expression of a dashboard, with the panel it belongs to (rows' nested panels included).
 * @param {any} dashboard
 * @returns {{ panel: string, expr: string }[]}
 */
export function dashboardQueries(dashboard) {
  const queries = [];
  const visit = (panels) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) if (typeof target.expr === 'string') queries.push({ panel: panel.title ?? '(untitled)', expr: target.expr });
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    if (variable.type === 'query' && typeof query === 'string') queries.push({ panel: `variable ${variable.name}`, expr: query.replace(/^label_values\((.*),[^,]*\)$/, '$1') });
  }
  return queries;
}

/**
 * The problems of a dashboard: each metric it reads that the code does not export, and a dashboard without queries.
 * @param {any} dashboard
 * @param {Set<string>} exported
 * @returns {string[]}
 */
export function checkDashboard(dashboard, exported) {
  const queries = dashboardQueries(dashboard);
  if (queries.length === 0) return ['the dashboard has no PromQL query'];
  const problems = [];
  for (const { panel, expr } of queries) {
    for (const name of metricNames(expr)) {
      if (!exported.has(name)) problems.push(`panel "${panel}": ${name} is not a metric the code exports (query: ${expr})`);
    }
  }
  return problems;
}

async function main(argv) {
  const file = path.resolve(argv[0] ?? path.join(root, 'deploy/grafana/kv.json'));
  let dashboard;
  try {
    dashboard = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    process.stderr.write(`check-dashboard: cannot read ${file}: ${error.message}\n`);
    return 2;
  }
  const exported = await exportedSeries();
  const problems = checkDashboard(dashboard, exported);
  const shown = path.relative(process.cwd(), file);
  if (problems.length === 0) {
    process.stdout.write(`${shown}: ${dashboardQueries(dashboard).length} queries, every metric exported by the code (${exported.size} series known)\n`);
    return 0;
  }
  for (const problem of problems) process.stderr.write(`${shown}: ${problem}\n`);
  return 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
