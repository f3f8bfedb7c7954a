import { invariant } from './invariant';
import type { KeyHistory } from './key-history';
import { NULL_VALUE_ID } from './key-history';
import { LinearizedSet } from './linearized-set';
import { STEPS_PER_CLOCK_READ } from './limits';
import { MemoTable } from './memo-table';

/** Limits of one search. */
export interface SearchBounds {
  stepsMax: number;
  /** Give up once `now()` passes this time (ms, the clock of `now`). */
  deadlineMs: number;
  now: () => number;
}

/** The deepest point the search reached before it had to backtrack. */
export interface LongestPrefix {
  /** Indexes of the operations of the longest linearizable prefix found, in linearization order. */
  order: Int32Array;
  /** Model state (value id) after that prefix. */
  state: number;
  /** Index of the operation whose return was reached without it being linearized. */
  blocked: number;
}

/** What the search concluded. */
export type SearchResult =
  | { verdict: 'linearizable'; steps: number; configurations: number }
  | { verdict: 'not-linearizable'; steps: number; configurations: number; longest: LongestPrefix }
  | {
      verdict: 'bounded';
      bound: 'steps' | 'time';
      steps: number;
      configurations: number;
      /** The longest prefix found before the bound, if the search had backtracked by then. */
      longest?: LongestPrefix;
    };

/**
 * Searches for a linearization of one key's register history: the algorithm of Wing & Gong with Lowe's memoization (as in
 * Knossos and Porcupine).
 *
 * The events are a doubly linked list. The search walks the calls that precede the first remaining return: it linearizes
 * one whose model step succeeds (a write always does; a read does if it returned the current value) and whose resulting
 * configuration (set of decided operations, state) was not explored before, lifts its call and return out of the list and
 * starts again from the head. Reaching the return of an operation not yet linearized means that no extension of the
 * current prefix works: it undoes the last move and tries the next call after it. An `optional` operation whose return is
 * reached may instead be left out, which is one more move, memoized and undone like the others. The search succeeds when
 * no return is left.
 *
 * Prunings, each of which only removes orders that cannot succeed or have an equivalent order that is still searched.
 * Without them an `unknown` write pending over a long interval makes the search explore, at every point of that interval,
 * a branch that only fails when the reads of its value come, and unknown deletes multiply the configurations:
 * - no write while reads of the current value remain (values are unique, so those reads could never come);
 * - no write of a value that has reads unless the first of them is invoked before the next return of a non-optional
 *   operation: until that return only reads of the value may follow the write;
 * - an optional delete only when the register holds a value, and then a read of nothing must come before any write
 *   (otherwise it is the same as leaving it out), so one must be invoked before the next return;
 * - optional deletes in index order (they are interchangeable, see `KeyHistory.previousOptional`).
 * The prunings cut a failing branch at the write that starts it rather than at the read that fails, so the longest prefix
 * of a pruned search explains a violation poorly; `pruning = false` gives the plain search, for explanations.
 *
 * A step is one visit of an event. Allocates nothing per step, except when the memo table or the prefix tree grows.
 *
 * @param pruning whether to prune as above; the verdict is the same either way, only the work and the longest prefix differ.
 */
export function searchLinearization(history: KeyHistory, bounds: SearchBounds, pruning = true): SearchResult {
  const n = history.ops.length;
  const { isWrite, optional, previousOptional, valueIds } = history;
  const head = 2 * n;
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  let last = head;
  for (const event of history.events) {
    next[last] = event;
    prev[event] = last;
    last = event;
  }

  // Pruning by unique values: a write's reads all come between it and the next write, so while the register holds a
  // value that still has reads to linearize, no write may be linearized (those reads could never be). The count depends
  // only on the decided set, so pruning with it keeps the memo sound.
  const readsLeft = new Int32Array(history.values.length);
  for (let i = 0; i < n; i++) if (isWrite[i] === 0 && valueIds[i] > NULL_VALUE_ID) readsLeft[valueIds[i]]++;
  // State of a register emptied by an optional (unknown) delete that no read has observed yet. Such a delete followed by
  // a write is the same as no delete, which the search covers by leaving it out; forbidding the write here stops the
  // search from exploring both. A distinct state keeps the memo key exact.
  const unobservedNull = history.values.length;
  // Position of each event in time order, and the call event of the first read of each value: a write whose value has
  // reads is only worth linearizing if that read is invoked before the next mandatory return, since only reads of its
  // value may come between it and that return.
  const rank = new Int32Array(2 * n);
  history.events.forEach((event, position) => (rank[event] = position));
  const firstReaderCall = new Int32Array(history.values.length).fill(-1);
  for (let i = 0; i < n; i++) {
    const value = valueIds[i];
    if (isWrite[i] === 0 && value > NULL_VALUE_ID && firstReaderCall[value] === -1) firstReaderCall[value] = 2 * i;
  }
  // Likewise an optional delete is only worth linearizing if a read of nothing is invoked before the next mandatory
  // return. Every decided operation was invoked before the first remaining mandatory return, so the undecided reads of
  // nothing invoked before a return event are those invoked before it minus the decided ones.
  const nullReadCallsBefore = new Int32Array(2 * n + 1);
  history.events.forEach((event, position) => {
    const isNullReadCall = (event & 1) === 0 && isWrite[event >>> 1] === 0 && valueIds[event >>> 1] === NULL_VALUE_ID;
    nullReadCallsBefore[position + 1] = nullReadCallsBefore[position] + (isNullReadCall ? 1 : 0);
  });
  let nullReadsDecided = 0;
  let firstMandatoryReturn = nextMandatoryReturn(next[head]);

  let returnsLeft = n;
  // Operations decided on the current path: linearized, or (optional ones) left out. What is left to search depends only
  // on this set and the state, which makes the pair the memo key.
  const decided = new LinearizedSet(n);
  const memo = new MemoTable();
  // The moves on the current path: a call event for a linearization, a return event for leaving an operation out.
  const stackMoves = new Int32Array(n);
  const stackStates = new Int32Array(n);
  // Every prefix the search builds is a path in a tree of (operation, parent) nodes, so recording the longest one is O(1):
  // copying the stack each time the prefix grows would cost O(n^2) on a long history.
  const prefixTree = new PrefixTree();
  const stackNodes = new Int32Array(n + 1);
  stackNodes[0] = PrefixTree.ROOT;
  let longestNode = PrefixTree.ROOT;
  let longestState = NULL_VALUE_ID;
  let longestBlocked = -1;
  let depth = 0;
  let state = NULL_VALUE_ID;
  let steps = 0;
  let clockReadAt = STEPS_PER_CLOCK_READ;
  let entry = next[head];

  while (returnsLeft > 0) {
    if (steps >= bounds.stepsMax) return bounded('steps');
    steps++;
    if (steps >= clockReadAt) {
      clockReadAt += STEPS_PER_CLOCK_READ;
      if (bounds.now() > bounds.deadlineMs) return bounded('time');
    }
    invariant(entry !== -1, 'a return event remains, so the walk from the head meets one');
    const op = entry >>> 1;
    const isCall = (entry & 1) === 0;

    let nextState = state;
    let movable: boolean;
    if (!isCall) {
      movable = optional[op] === 1;
    } else if (!pruning) {
      movable = isWrite[op] === 1 || valueIds[op] === state;
      if (isWrite[op] === 1) nextState = valueIds[op];
    } else if (optional[op] === 0 && isWrite[op] === 1) {
      nextState = valueIds[op];
      movable = state !== unobservedNull && readsLeft[state] === 0;
      if (movable && readsLeft[nextState] > 0) {
        const after = firstMandatoryReturn === entry + 1 ? nextMandatoryReturn(next[entry + 1]) : firstMandatoryReturn;
        movable = after === -1 || rank[firstReaderCall[nextState]] < rank[after];
      }
    } else if (isWrite[op] === 1) {
      // An optional delete: only when it changes the state (else it is the same as leaving it out), and only the first
      // undecided one (they are interchangeable).
      movable =
        state !== NULL_VALUE_ID &&
        state !== unobservedNull &&
        readsLeft[state] === 0 &&
        (previousOptional[op] === -1 || decided.has(previousOptional[op]));
      if (movable) {
        const after = firstMandatoryReturn === entry + 1 ? nextMandatoryReturn(next[entry + 1]) : firstMandatoryReturn;
        movable = nullReadCallsBefore[after === -1 ? 2 * n : rank[after]] > nullReadsDecided;
      }
      nextState = unobservedNull;
    } else if (state === unobservedNull) {
      movable = valueIds[op] === NULL_VALUE_ID;
      nextState = NULL_VALUE_ID;
    } else {
      movable = valueIds[op] === state;
    }
    if (movable) {
      decided.add(op);
      if (memo.addIfAbsent(decided, nextState)) {
        stackMoves[depth] = entry;
        stackStates[depth] = state;
        stackNodes[depth + 1] = isCall ? prefixTree.add(op, stackNodes[depth]) : stackNodes[depth];
        depth++;
        state = nextState;
        if (isCall && isWrite[op] === 0) {
          if (valueIds[op] > NULL_VALUE_ID) readsLeft[valueIds[op]]--;
          else if (valueIds[op] === NULL_VALUE_ID) nullReadsDecided++;
        }
        lift(op);
        entry = next[head];
        continue;
      }
      decided.remove(op);
    }
    if (isCall) {
      entry = next[entry];
      continue;
    }

    // A return whose operation is undecided, and no new move for it: backtrack. Only a return that must be linearized
    // explains a failure (an optional one was refused by the memo: its configuration failed before, for another reason).
    if (!movable && (longestBlocked === -1 || prefixTree.length(stackNodes[depth]) > prefixTree.length(longestNode))) {
      longestNode = stackNodes[depth];
      longestState = state;
      longestBlocked = op;
    }
    if (depth === 0) {
      const longest = longestPrefix();
      invariant(longest !== undefined, 'the search blocked on a return before failing');
      return { verdict: 'not-linearizable', steps, configurations: memo.size, longest };
    }
    depth--;
    const move = stackMoves[depth];
    state = stackStates[depth];
    if ((move & 1) === 0 && isWrite[move >>> 1] === 0) {
      if (valueIds[move >>> 1] > NULL_VALUE_ID) readsLeft[valueIds[move >>> 1]]++;
      else if (valueIds[move >>> 1] === NULL_VALUE_ID) nullReadsDecided--;
    }
    decided.remove(move >>> 1);
    unlift(move >>> 1);
    // After undoing a linearization, try the calls after it; after undoing a leave-out, the return is blocked again.
    entry = (move & 1) === 0 ? next[move] : move;
  }
  return { verdict: 'linearizable', steps, configurations: memo.size };

  function longestPrefix(): LongestPrefix | undefined {
    if (longestBlocked === -1) return undefined;
    return {
      order: prefixTree.path(longestNode),
      state: longestState === unobservedNull ? NULL_VALUE_ID : longestState,
      blocked: longestBlocked,
    };
  }

  function bounded(bound: 'steps' | 'time'): SearchResult {
    return { verdict: 'bounded', bound, steps, configurations: memo.size, longest: longestPrefix() };
  }

  /** Takes operation `index`'s call and return out of the list; their own links stay in place for `unlift`. */
  function lift(index: number): void {
    const call = 2 * index;
    const ret = call + 1;
    next[prev[call]] = next[call];
    prev[next[call]] = prev[call]; // a call is always followed by its return, so next[call] !== -1
    next[prev[ret]] = next[ret];
    if (next[ret] !== -1) prev[next[ret]] = prev[ret];
    returnsLeft--;
    if (firstMandatoryReturn === ret) firstMandatoryReturn = nextMandatoryReturn(next[ret]);
  }

  /** Puts operation `index` back: the reverse of `lift`, return first, so every saved link is valid again. */
  function unlift(index: number): void {
    const call = 2 * index;
    const ret = call + 1;
    next[prev[ret]] = ret;
    if (next[ret] !== -1) prev[next[ret]] = ret;
    next[prev[call]] = call;
    prev[next[call]] = call;
    returnsLeft++;
    if (optional[index] === 0 && (firstMandatoryReturn === -1 || rank[ret] < rank[firstMandatoryReturn])) {
      firstMandatoryReturn = ret;
    }
  }

  /**
   * The first return event at or after `from` in the list of an operation that is not optional (-1: none). An optional
   * operation's return does not have to be reached with it linearized (it may be left out there), so the look-aheads
   * skip it.
   */
  function nextMandatoryReturn(from: number): number {
    let event = from;
    while (event !== -1 && ((event & 1) === 0 || optional[event >>> 1] === 1)) event = next[event];
    return event;
  }
}

/** Prefixes of the search as a tree of (operation, parent) nodes in growable typed arrays. */
class PrefixTree {
  /** The empty prefix. */
  static readonly ROOT = -1;
  private ops = new Int32Array(1024);
  private parents = new Int32Array(1024);
  private lengths = new Int32Array(1024);
  private count = 0;

  /** Adds the prefix `parent` followed by `op`; returns its node. */
  add(op: number, parent: number): number {
    if (this.count === this.ops.length) {
      this.ops = doubled(this.ops);
      this.parents = doubled(this.parents);
      this.lengths = doubled(this.lengths);
    }
    this.ops[this.count] = op;
    this.parents[this.count] = parent;
    this.lengths[this.count] = this.length(parent) + 1;
    return this.count++;
  }

  /** Number of operations in the prefix ending at `node`. */
  length(node: number): number {
    return node === PrefixTree.ROOT ? 0 : this.lengths[node];
  }

  /** The operations of the prefix ending at `node`, first to last. */
  path(node: number): Int32Array {
    const order = new Int32Array(this.length(node));
    for (let i = order.length - 1; i >= 0; i--) {
      order[i] = this.ops[node];
      node = this.parents[node];
    }
    invariant(node === PrefixTree.ROOT, 'a prefix path ends at the root');
    return order;
  }
}

function doubled(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
