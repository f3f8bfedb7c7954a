import type { ProtocolVersion } from './writer';

/**
 * What one RESP connection remembers between commands: whether it authenticated, its protocol version, the name
 * `CLIENT SETNAME` gave it, its id, and the quorums `CLIENT KV-QUORUM` set. Commands of one connection change it in
 * the order they were sent (the dispatcher runs state-changing commands as barriers).
 */
export class ConnectionState {
  /** Unique among the connections of one server (`CLIENT ID`). */
  readonly id: number;
  /** Remote address, for `CLIENT INFO`-like answers and logs. */
  readonly address: string;
  authenticated: boolean;
  protocol: ProtocolVersion = 2;
  name = '';
  /** `?w=` of every write of this connection; undefined: the cluster's W. */
  writeQuorum: number | undefined;
  /** `?r=` of every read of this connection; undefined: the cluster's R. */
  readQuorum: number | undefined;
  /** Set by `QUIT`: the server closes the connection once the reply is out. */
  closing = false;
  /** Set once the connection closed: commands still running need not go on (see `RespCallOptions.clientGone`). */
  gone = false;

  /**
   * @param authRequired true when the server has a token: the connection starts unauthenticated.
   */
  constructor(id: number, address: string, authRequired: boolean) {
    this.id = id;
    this.address = address;
    this.authenticated = !authRequired;
  }
}
