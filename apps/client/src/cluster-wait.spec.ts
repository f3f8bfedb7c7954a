import type { ClusterChangeStarted, ClusterResponse } from '@kv/protocol';
import { POLL_FAILURES_MAX, waitForChange, WaitForChangeOptions } from './cluster-wait';

const STARTED: ClusterChangeStarted = { dryRun: false, epoch: 2, change: 'c2-1' };

function answer(epoch: number, inProgress: boolean): ClusterResponse {
  return {
    nodes: [],
    replicas: 3,
    writeQuorum: 2,
    readQuorum: 2,
    vnodes: 128,
    epoch,
    change: inProgress ? { id: STARTED.change, phase: 'copy', add: ['node4'], remove: [], progress: null } : null,
  };
}

/** A wait on a fake clock: each poll takes 10 ms and answers the next of `replies` (the last one repeats). */
function fakeWait(replies: (ClusterResponse | Error)[], overrides: Partial<WaitForChangeOptions> = {}) {
  let nowMs = 0;
  let polls = 0;
  const sleeps: number[] = [];
  const answers: number[] = [];
  const failures: number[] = [];
  const options: WaitForChangeOptions = {
    started: STARTED,
    poll: async () => {
      const reply = replies[Math.min(polls, replies.length - 1)];
      polls += 1;
      nowMs += 10;
      if (reply instanceof Error) throw reply;
      return reply;
    },
    now: () => nowMs,
    sleep: async (ms) => {
      sleeps.push(ms);
      nowMs += ms;
    },
    timeoutMs: 1000,
    intervalMs: 100,
    onAnswer: (cluster) => answers.push(cluster.epoch),
    onPollFailure: (_error, inARow) => failures.push(inARow),
    ...overrides,
  };
  return { run: () => waitForChange(options), sleeps, answers, failures, polls: () => polls, now: () => nowMs };
}

describe('waitForChange', () => {
  it('polls until the change is done, and reports every answer', async () => {
    const wait = fakeWait([answer(2, true), answer(3, true), answer(4, false)]);
    const outcome = await wait.run();
    expect(outcome).toEqual({ outcome: 'done', cluster: answer(4, false) });
    expect(wait.answers).toEqual([2, 3, 4]);
    expect(wait.sleeps).toEqual([100, 100]);
  });

  it('is done at once when the first answer shows it', async () => {
    const wait = fakeWait([answer(4, false)]);
    expect((await wait.run()).outcome).toBe('done');
    expect(wait.sleeps).toEqual([]);
  });

  it('times out at the deadline with the last answer, polling once more at the deadline', async () => {
    const wait = fakeWait([answer(2, true)], { timeoutMs: 250 });
    const outcome = await wait.run();
    expect(outcome).toEqual({ outcome: 'timeout', last: answer(2, true) });
    // Polls at 0, 110, 220 (each takes 10 ms); the last sleep is cut to the deadline, then one more poll.
    expect(wait.sleeps).toEqual([100, 100, 20]);
    expect(wait.polls()).toBe(4);
    expect(wait.now()).toBe(260);
  });

  it('rides out failed polls, and counts them in a row', async () => {
    const down = new Error('ECONNREFUSED');
    const wait = fakeWait([down, down, answer(3, true), down, answer(4, false)]);
    expect((await wait.run()).outcome).toBe('done');
    expect(wait.failures).toEqual([1, 2, 1]);
  });

  it(`gives up after ${POLL_FAILURES_MAX} failed polls in a row, with the last error and answer`, async () => {
    const down = new Error('ECONNREFUSED');
    const wait = fakeWait([answer(2, true), ...Array<Error>(POLL_FAILURES_MAX).fill(down)]);
    expect(await wait.run()).toEqual({ outcome: 'failed', error: down, last: answer(2, true) });
    expect(wait.failures).toEqual([1, 2, 3, 4, 5]);
  });

  it('times out without any answer when every poll fails slower than the deadline', async () => {
    const wait = fakeWait([new Error('down')], { timeoutMs: 5 });
    expect(await wait.run()).toEqual({ outcome: 'timeout', last: undefined });
  });

  it.each([
    [0, 100],
    [100, 0],
    [Number.NaN, 100],
  ])('refuses a deadline of %d ms or an interval of %d ms', async (timeoutMs, intervalMs) => {
    await expect(fakeWait([answer(4, false)], { timeoutMs, intervalMs }).run()).rejects.toThrow(TypeError);
  });
});
