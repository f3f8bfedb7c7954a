import type { Operation } from '../history';

/**
 * The definition of linearizability for one key's register history, checked by brute force: is there an order of all
 * acknowledged operations and some of the `unknown` writes that respects real time (an acknowledged operation that
 * completed before another was invoked comes first) and register semantics? Exponential; for tests on a few operations.
 */
export function referenceLinearizable(history: readonly Operation[]): boolean {
  const ops = history.filter((op) => op.outcome === 'ok' || (op.outcome === 'unknown' && op.kind === 'write'));
  const n = ops.length;
  if (n > 20) throw new RangeError('the reference checker is for at most 20 operations');
  let mandatory = 0;
  const predecessors = ops.map(() => 0);
  ops.forEach((op, i) => {
    if (op.outcome === 'ok') mandatory |= 1 << i;
    ops.forEach((other, j) => {
      if (other.outcome === 'ok' && other.completedAt < op.invokedAt) predecessors[i] |= 1 << j;
    });
  });
  const failed = new Set<string>();
  const search = (placed: number, state: string | null): boolean => {
    if ((placed & mandatory) === mandatory) return true;
    const memoKey = `${placed}:${JSON.stringify(state)}`;
    if (failed.has(memoKey)) return false;
    for (let i = 0; i < n; i++) {
      if ((placed & (1 << i)) !== 0 || (predecessors[i] & placed) !== predecessors[i]) continue;
      const op = ops[i];
      if (op.kind === 'read' && op.value !== state) continue;
      if (search(placed | (1 << i), op.kind === 'write' ? op.value : state)) return true;
    }
    failed.add(memoKey);
    return false;
  };
  return search(0, null);
}
