import {
  ClusterChange,
  ClusterChangePlan,
  ClusterChangeStarted,
  ClusterNode,
  ClusterResponse,
  ErrorCode,
  isNodeId,
  KvError,
} from '@kv/protocol';

/** Options of {@link FakeMembership}. */
export interface FakeMembershipOptions {
  /** The members at the start; node1..node3 on ports 8001..8003 by default. */
  members?: { id: string; url: string }[];
  /** N (default 3): a change may not leave fewer members. */
  replicas?: number;
  /** The epoch at the start (default 1). */
  epoch?: number;
  /** Ranges a change streams (default 4). */
  rangesPerChange?: number;
  /** Ranges streamed per `GET /cluster` during `copy` (default 1); 0 stalls every change there. */
  rangesPerPoll?: number;
  /** Keys streamed per range (default 25); each is {@link FAKE_ENTRY_BYTES} bytes. */
  keysPerRange?: number;
}

/** Bytes of each entry the fake streams. */
export const FAKE_ENTRY_BYTES = 100;

interface Member {
  id: string;
  url: string;
  state: 'active' | 'joining' | 'leaving';
}

/**
 * The cluster map of the fake proxy, with membership changes that move on by themselves, one step per `GET /cluster`:
 * in `copy`, `rangesPerPoll` ranges are streamed per poll; once all are, the next poll shows `read-new` (epoch + 1), the
 * one after that the change done (epoch + 2). Refusals as the proxy words them: `KV_CHANGE_REFUSED` for nothing to do,
 * an unknown or duplicate id, a URL already used, fewer than N members; `KV_CHANGE_IN_PROGRESS` during a change.
 * Deterministic: no clock, no randomness.
 */
export class FakeMembership {
  epoch: number;
  /** Every `POST /cluster/changes` body, parsed. */
  readonly changeRequests: unknown[] = [];
  private members: Member[];
  private change: (ClusterChange & { progress: NonNullable<ClusterChange['progress']> }) | null = null;
  private changeCount = 0;
  private readonly replicas: number;
  private readonly rangesPerChange: number;
  private readonly rangesPerPoll: number;
  private readonly keysPerRange: number;

  constructor(options: FakeMembershipOptions = {}) {
    this.members = (
      options.members ?? [
        { id: 'node1', url: 'http://127.0.0.1:8001' },
        { id: 'node2', url: 'http://127.0.0.1:8002' },
        { id: 'node3', url: 'http://127.0.0.1:8003' },
      ]
    ).map((member) => ({ ...member, state: 'active' }));
    this.replicas = options.replicas ?? 3;
    this.epoch = options.epoch ?? 1;
    this.rangesPerChange = options.rangesPerChange ?? 4;
    this.rangesPerPoll = options.rangesPerPoll ?? 1;
    this.keysPerRange = options.keysPerRange ?? 25;
  }

  /** The answer of `GET /cluster`, after moving a change in progress on by one step. */
  view(settings: Pick<ClusterResponse, 'replicas' | 'writeQuorum' | 'readQuorum' | 'vnodes'>): ClusterResponse {
    this.step();
    const nodes: ClusterNode[] = this.members.map((member) => ({
      id: member.id,
      url: member.url,
      status: 'up',
      state: 'ready',
      member: member.state,
    }));
    const change = this.change === null ? null : { ...this.change, progress: this.change.phase === 'copy' ? { ...this.change.progress } : null };
    return { nodes, ...settings, epoch: this.epoch, change };
  }

  /**
   * The answer of `POST /cluster/changes` to a body already parsed as JSON.
   * @throws KvError as the proxy refuses.
   */
  request(body: unknown): { status: number; body: ClusterChangePlan | ClusterChangeStarted } {
    this.changeRequests.push(body);
    const { add = [], remove = [], dryRun = false } = (body ?? {}) as { add?: { id: string; url: string }[]; remove?: string[]; dryRun?: boolean };
    for (const [i, node] of add.entries()) {
      if (!isNodeId(node?.id)) throw new KvError(ErrorCode.BadRequest, `add[${i}].id must be 1..64 of letters, digits, "_", "." or "-"`);
    }
    if (this.change !== null) throw new KvError(ErrorCode.ChangeInProgress, `change ${this.change.id} is in progress`);
    const refuse = (message: string): KvError => new KvError(ErrorCode.ChangeRefused, message);
    if (add.length === 0 && remove.length === 0) throw refuse('the change adds and removes nothing');
    for (const { id, url } of add) {
      if (this.members.some((member) => member.id === id)) throw refuse(`node ${id} is already a member`);
      const owner = this.members.find((member) => member.url === url);
      if (owner !== undefined) throw refuse(`${url} is already the URL of member ${owner.id}`);
    }
    for (const id of remove) if (!this.members.some((member) => member.id === id)) throw refuse(`node ${id} is not a member`);
    const remaining = this.members.length - remove.length + add.length;
    if (remaining < this.replicas) throw refuse(`the cluster would have ${remaining} members, fewer than N=${this.replicas} copies of each key`);

    const next: Member[] = [
      ...this.members.map((member): Member => (remove.includes(member.id) ? { ...member, state: 'leaving' } : member)),
      ...add.map(({ id, url }): Member => ({ id, url, state: 'joining' })),
    ];
    if (dryRun) return { status: 200, body: this.plan(next, add) };
    this.changeCount += 1;
    const id = `c${this.epoch + 1}-fake${this.changeCount}`;
    this.members = next;
    this.epoch += 1;
    this.change = {
      id,
      phase: 'copy',
      add: add.map((node) => node.id),
      remove: [...remove],
      progress: { rangesDone: 0, rangesTotal: this.rangesPerChange, keysStreamed: 0, bytesStreamed: 0 },
    };
    return { status: 202, body: { dryRun: false, epoch: this.epoch, change: id } };
  }

  private plan(next: readonly Member[], add: readonly { id: string }[]): ClusterChangePlan {
    const old = this.members.map((member) => member.id);
    const stay = next.filter((member) => member.state === 'active').map((member) => member.id);
    const gaining = add.length > 0 ? add.map((node) => node.id) : stay.slice(0, 1);
    const span = Math.floor(2 ** 32 / (this.rangesPerChange * 4));
    const ranges = Array.from({ length: this.rangesPerChange }, (_, i) => {
      // Half the ranges move from the first N members, the others from the last N: two groups in the table.
      const from = i % 2 === 0 ? old.slice(0, this.replicas) : old.slice(-this.replicas);
      const to = [gaining[i % gaining.length]];
      return { start: i * 4 * span, end: i * 4 * span + span, from, to, keys: this.keysPerRange, bytes: this.keysPerRange * FAKE_ENTRY_BYTES };
    });
    const keys = ranges.reduce((sum, range) => sum + range.keys * range.to.length, 0);
    const bytes = ranges.reduce((sum, range) => sum + range.bytes * range.to.length, 0);
    return { dryRun: true, epoch: this.epoch + 1, members: next.map((member) => ({ ...member })), ranges, keys, bytes, share: 0.25 };
  }

  private step(): void {
    const change = this.change;
    if (change === null) return;
    if (change.phase === 'copy') {
      const progress = change.progress;
      if (progress.rangesDone < progress.rangesTotal) {
        const ranges = Math.min(this.rangesPerPoll, progress.rangesTotal - progress.rangesDone);
        progress.rangesDone += ranges;
        progress.keysStreamed += ranges * this.keysPerRange;
        progress.bytesStreamed += ranges * this.keysPerRange * FAKE_ENTRY_BYTES;
        return;
      }
      if (this.rangesPerPoll === 0) return;
      change.phase = 'read-new';
      this.epoch += 1;
      return;
    }
    this.members = this.members.filter((member) => member.state !== 'leaving').map((member) => ({ ...member, state: 'active' }));
    this.change = null;
    this.epoch += 1;
  }
}
