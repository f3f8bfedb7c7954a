import type { ConvergenceCheckResult, ReplicaState } from './check-convergence';
import type { RegisterCheckResult, Verdict } from './check-register';
import type { SetCheckResult, SetInsert } from './check-set';
import { describeOperation, formatMs, quoteValue } from './describe-operation';
import { REPORT_DETAILS_MAX_DEFAULT } from './limits';

/** Any checker's result; `checker` tells which. */
export type CheckResult = RegisterCheckResult | SetCheckResult | ConvergenceCheckResult;

/** Options of `formatReport`. */
export interface FormatReportOptions {
  /** Violations, lost elements or divergent keys detailed; the rest are counted. Default `REPORT_DETAILS_MAX_DEFAULT`. */
  detailsMax?: number;
}

/**
 * Renders a checker's result as text for the chaos runner: a one-line summary starting with the checker's name and its
 * verdict (`VALID`, `INVALID` or `UNKNOWN`), then, when something is wrong or undecided, indented detail lines.
 */
export function formatReport(result: CheckResult, options: FormatReportOptions = {}): string {
  const detailsMax = options.detailsMax ?? REPORT_DETAILS_MAX_DEFAULT;
  if (!Number.isSafeInteger(detailsMax) || detailsMax < 0) throw new TypeError('detailsMax must be a non-negative integer');
  switch (result.checker) {
    case 'register':
      return formatRegister(result, detailsMax).join('\n');
    case 'set':
      return formatSet(result, detailsMax).join('\n');
    case 'convergence':
      return formatConvergence(result, detailsMax).join('\n');
  }
}

function formatRegister(result: RegisterCheckResult, detailsMax: number): string[] {
  const entries = Object.entries(result.keys);
  let ops = 0;
  let dropped = 0;
  let steps = 0;
  let elapsedMs = 0;
  const bounded: string[] = [];
  for (const [key, keyResult] of entries) {
    ops += keyResult.ops;
    dropped += keyResult.dropped.failed + keyResult.dropped.unknownReads + keyResult.dropped.unobservedUnknownWrites;
    steps += keyResult.steps;
    elapsedMs += keyResult.elapsedMs;
    if (keyResult.valid === 'unknown') bounded.push(`${JSON.stringify(key)} (${keyResult.bound ?? 'bound'})`);
  }
  const counts = [plural(entries.length, 'key')];
  if (result.violations.length > 0) counts.push(`${result.violations.length} not linearizable`);
  if (bounded.length > 0) counts.push(`${bounded.length} undecided`);
  const lines = [
    `register: ${verdictWord(result.valid)} — ${counts.join(', ')}; ${ops} ops checked (${dropped} dropped), ` +
      `${steps} steps, ${formatMs(elapsedMs)} ms`,
  ];
  for (const violation of result.violations.slice(0, detailsMax)) {
    lines.push(`  key ${JSON.stringify(violation.key)}: ${violation.explanation}`);
    if (violation.prefixTail.length > 0) {
      lines.push(`    end of the longest prefix (last ${violation.prefixTail.length} of ${violation.prefixLength}):`);
      for (const op of violation.prefixTail) lines.push(`      ${describeOperation(op)}`);
    }
    if (violation.concurrent.length > 0) {
      lines.push(`    not in the prefix, invoked before it completed (${violation.concurrent.length} of ${violation.concurrentCount}):`);
      for (const op of violation.concurrent) lines.push(`      ${describeOperation(op)}`);
    }
  }
  pushRest(lines, result.violations.length, detailsMax, 'violations');
  if (bounded.length > 0) lines.push(`  undecided (a search bound was reached): ${bounded.slice(0, detailsMax).join(', ')}`);
  pushRest(lines, bounded.length, detailsMax, 'undecided keys');
  return lines;
}

function formatSet(result: SetCheckResult, detailsMax: number): string[] {
  const { ok, fail, unknown } = result.inserts;
  const lines = [
    `set: ${verdictWord(result.valid)} — ${ok + fail + unknown} inserts (${ok} ok, ${fail} fail, ${unknown} unknown), ` +
      `${result.present} present; lost ${result.lost.length}, unexpected ${result.unexpected.length}, ` +
      `duplicated ${result.duplicated.length}, recovered ${result.recovered.length} of ${unknown} unknown`,
  ];
  for (const insert of result.lost.slice(0, detailsMax)) lines.push(`  lost: ${describeInsert(insert)}`);
  pushRest(lines, result.lost.length, detailsMax, 'lost elements');
  for (const element of result.unexpected.slice(0, detailsMax)) {
    const why = element.insert === undefined ? 'never inserted' : `its insert failed: ${describeInsert(element.insert)}`;
    lines.push(`  unexpected: ${quoteValue(element.value)} (${why})`);
  }
  pushRest(lines, result.unexpected.length, detailsMax, 'unexpected elements');
  for (const element of result.duplicated.slice(0, detailsMax)) lines.push(`  duplicated: ${quoteValue(element)}`);
  pushRest(lines, result.duplicated.length, detailsMax, 'duplicated elements');
  return lines;
}

function formatConvergence(result: ConvergenceCheckResult, detailsMax: number): string[] {
  const lines = [
    `convergence: ${verdictWord(result.valid)} — ${plural(result.keys, 'key')}, ${result.divergent.length} with replicas ` +
      'that disagree',
  ];
  for (const divergence of result.divergent.slice(0, detailsMax)) {
    const replicas = divergence.replicas.map(({ node, state }) => `${node}=${describeReplicaState(state)}`).join(', ');
    lines.push(
      `  key ${JSON.stringify(divergence.key)} (${divergence.kinds.join(', ')}): newest ${describeReplicaState(divergence.newest)}; ` +
        `${replicas}; behind: ${divergence.behind.join(', ') || 'none'}`,
    );
  }
  pushRest(lines, result.divergent.length, detailsMax, 'divergent keys');
  return lines;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function verdictWord(valid: Verdict): string {
  return valid === true ? 'VALID' : valid === false ? 'INVALID' : 'UNKNOWN';
}

function pushRest(lines: string[], total: number, shown: number, what: string): void {
  if (total > shown) lines.push(`  … and ${total - shown} more ${what}`);
}

function describeInsert(insert: SetInsert): string {
  const process = insert.process === undefined ? '' : ` p${insert.process}`;
  const times =
    insert.invokedAt === undefined
      ? ''
      : ` [${formatMs(insert.invokedAt)}, ${insert.outcome === 'unknown' || insert.completedAt === undefined ? '∞)' : `${formatMs(insert.completedAt)}]`} ms`;
  return `#${insert.id}${process} ${quoteValue(insert.value)} ${insert.outcome}${times}`;
}

function describeReplicaState(state: ReplicaState): string {
  if (state === null) return 'missing';
  return `${state.version}:${state.value === null ? 'tombstone' : quoteValue(state.value)}`;
}
