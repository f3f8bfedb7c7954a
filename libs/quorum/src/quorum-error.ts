import { ErrorCode, KvError } from '@kv/protocol';

/**
 * Fewer replicas than required answered in time (`KV_QUORUM_FAILED`). For a write the outcome is unknown: some
 * replicas may have applied it, and it may appear later.
 */
export class QuorumError extends KvError {
  /** Replicas that answered (or acknowledged). */
  readonly acks: number;
  /** Replicas that were required. */
  readonly required: number;
  readonly kind: 'read' | 'write';

  constructor(kind: 'read' | 'write', acks: number, required: number, reason?: string) {
    const what = kind === 'write' ? 'write acknowledged by' : 'read answered by';
    const message =
      `${what} ${acks} of ${required} required replicas` +
      (reason === undefined ? '' : `: ${reason}`) +
      (kind === 'write' ? '; the outcome is unknown' : '');
    super(ErrorCode.QuorumFailed, message, { details: { acks, required } });
    this.kind = kind;
    this.acks = acks;
    this.required = required;
  }
}
