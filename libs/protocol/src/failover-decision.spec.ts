import { ErrorCode } from './errors';
import { AttemptFailure, decideAfterFailure, FailoverDecision, RequestKind } from './failover-decision';
import type { TransportFailureReason } from './http-endpoint';

const answer = (status: number, code: ErrorCode): AttemptFailure => ({ answered: true, status, code });
const noAnswer = (reason: TransportFailureReason, mayHaveReachedServer: boolean): AttemptFailure => ({
  answered: false,
  reason,
  mayHaveReachedServer,
});
const next: FailoverDecision = { then: 'next', outcomeUnknown: false };
const stop: FailoverDecision = { then: 'stop', outcomeUnknown: false };
const stopUnknown: FailoverDecision = { then: 'stop', outcomeUnknown: true };

describe('decideAfterFailure', () => {
  it.each<[string, RequestKind, AttemptFailure, FailoverDecision]>([
    // Reads go on wherever another proxy may do better, and never mark anything.
    ['read, refused', 'read', noAnswer('unreachable', false), next],
    ['read, reset after sending', 'read', noAnswer('unreachable', true), next],
    ['read, timeout', 'read', noAnswer('timeout', true), next],
    ['read, cancelled', 'read', noAnswer('cancelled', true), stop],
    ['read, client closed', 'read', noAnswer('closed', false), stop],
    ['read, answer too large', 'read', noAnswer('too-large', true), stop],
    ['read, 502', 'read', answer(502, ErrorCode.Unavailable), next],
    ['read, 503 quorum', 'read', answer(503, ErrorCode.QuorumFailed), next],
    ['read, 503 not ready', 'read', answer(503, ErrorCode.NotReady), next],
    ['read, 504', 'read', answer(504, ErrorCode.Unavailable), next],
    ['read, 500', 'read', answer(500, ErrorCode.Internal), stop],
    ['read, 400', 'read', answer(400, ErrorCode.BadRequest), stop],
    ['read, 401', 'read', answer(401, ErrorCode.Unauthorized), stop],
    ['read, 404', 'read', answer(404, ErrorCode.NotFound), stop],
    // Writes go on only when they provably never reached the proxy.
    ['write, never reached (refused, connect timeout, queued)', 'write', noAnswer('unreachable', false), next],
    ['write, timed out before connecting', 'write', noAnswer('timeout', false), next],
    ['write, reset after connecting', 'write', noAnswer('unreachable', true), stopUnknown],
    ['write, timed out after connecting', 'write', noAnswer('timeout', true), stopUnknown],
    ['write, cancelled before connecting', 'write', noAnswer('cancelled', false), stop],
    ['write, cancelled after connecting', 'write', noAnswer('cancelled', true), stopUnknown],
    ['write, client closed', 'write', noAnswer('closed', false), stop],
    ['write, answer too large', 'write', noAnswer('too-large', true), stopUnknown],
    ['write, 400', 'write', answer(400, ErrorCode.BadRequest), stop],
    ['write, 409', 'write', answer(409, ErrorCode.ChangeInProgress), stop],
    ['write, 413', 'write', answer(413, ErrorCode.TooLarge), stop],
    ['write, 500', 'write', answer(500, ErrorCode.Internal), stopUnknown],
    ['write, 502', 'write', answer(502, ErrorCode.Unavailable), stopUnknown],
    ['write, 503 quorum', 'write', answer(503, ErrorCode.QuorumFailed), stopUnknown],
    ['write, 503 not ready', 'write', answer(503, ErrorCode.NotReady), next],
    ['write, 503 overloaded', 'write', answer(503, ErrorCode.Overloaded), stop],
    ['write, 504', 'write', answer(504, ErrorCode.Unavailable), stopUnknown],
  ])('%s', (_case, kind, failure, decision) => {
    expect(decideAfterFailure(kind, failure)).toEqual(decision);
  });
});
