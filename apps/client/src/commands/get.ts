import type { CliCommand } from '../command';
import { checkKey } from '../key-arg';
import { ReadQuorumArgs, withReadQuorum } from '../quorum-options';
import { runSingleRequest } from '../single-request';

/** Arguments of `kv get`. */
export interface GetArgs extends ReadQuorumArgs {
  key: string;
}

/**
 * `kv get <key>`: reads a value (`GET /kv/{key}`) and prints it alone with a newline, or the server's answer
 * `{"key","value","version"}` with `--json`. A missing key exits 1.
 */
export const getCommand: CliCommand<GetArgs> = {
  command: 'get <key>',
  describe: 'print a value (exit 1 when the key has none)',
  builder: (y) =>
    withReadQuorum(y.positional('key', { type: 'string', describe: 'the key', demandOption: true }))
      .example('$0 get user:42', 'prints Ada')
      .example('$0 --json get user:42', 'prints {"key":"user:42","value":"Ada","version":"..."}')
      .example('$0 get user:42 --r 1', 'answers after one replica'),
  run: async (args, { out }) => {
    const key = checkKey(args.key);
    return runSingleRequest(args, out, (client) => client.get(key, { r: args.r }), {
      write: false,
      plain: (answer) => answer.value,
      notFound: `key ${JSON.stringify(key)} not found`,
    });
  },
};
