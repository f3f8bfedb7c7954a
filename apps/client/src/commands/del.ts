import type { CliCommand } from '../command';
import { checkKey } from '../key-arg';
import { withWriteQuorum, WriteQuorumArgs } from '../quorum-options';
import { runSingleRequest } from '../single-request';

/** Arguments of `kv del`. */
export interface DelArgs extends WriteQuorumArgs {
  key: string;
}

/**
 * `kv del <key>` (alias `delete`): deletes a key (`DELETE /kv/{key}`). Idempotent: deleting a missing key succeeds. Prints
 * `OK`, or the server's answer `{"key","version","acks"}` with `--json`.
 */
export const delCommand: CliCommand<DelArgs> = {
  command: ['del <key>', 'delete'],
  describe: 'delete a key (succeeds when it has no value too)',
  builder: (y) =>
    withWriteQuorum(y.positional('key', { type: 'string', describe: 'the key', demandOption: true }))
      .example('$0 del user:42', 'prints OK')
      .example('$0 delete user:42 --w 3', 'waits for 3 replicas'),
  run: async (args, { out }) => {
    const key = checkKey(args.key);
    return runSingleRequest(args, out, (client) => client.delete(key, { w: args.w }), {
      write: true,
      plain: () => 'OK',
    });
  },
};
