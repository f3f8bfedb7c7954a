import { TTL_SECONDS_MAX } from '@kv/protocol';
import type { CliCommand } from '../command';
import { checkKey } from '../key-arg';
import { integerIn } from '../option-values';
import { withWriteQuorum, WriteQuorumArgs } from '../quorum-options';
import { readUtf8 } from '../read-input';
import { runSingleRequest } from '../single-request';

/**
 * Largest value read from standard input, in bytes: far above the server's default `MAX_VALUE_BYTES` (1 MiB), so the
 * server's limit is the one users meet, while a mistaken pipe cannot fill the memory.
 */
export const STDIN_VALUE_BYTES_MAX = 64 * 1024 * 1024;

/** Arguments of `kv set`. */
export interface SetArgs extends WriteQuorumArgs {
  key: string;
  /** The value, or `-` to read it from standard input. */
  value: string;
  /** Seconds until the key expires (`"ttl"`); undefined: it does not expire. */
  ttl: number | undefined;
}

/**
 * `kv set <key> <value>`: stores a value (`PUT /kv/{key}`). The value `-` is read from standard input, whole and exactly
 * (a trailing newline is kept), as UTF-8. `--ttl <seconds>` makes the key expire. Prints `OK` (with `--ttl`:
 * `OK, expires at <ISO 8601 time>`), or the server's answer `{"key","version","acks"}` (and `expiresAt`) with `--json`.
 */
export const setCommand: CliCommand<SetArgs> = {
  command: 'set <key> <value>',
  describe: 'store a value ("-" reads it from standard input)',
  builder: (y) =>
    withWriteQuorum(
      y
        .option('ttl', {
          type: 'number',
          describe: `seconds until the key expires, 1..${TTL_SECONDS_MAX} (10 years); a set without it clears an expiry`,
          requiresArg: true,
          coerce: integerIn('--ttl', 1, TTL_SECONDS_MAX),
        })
        .positional('key', {
          type: 'string',
          describe: 'the key: 1 to 1024 bytes of UTF-8, any characters',
          demandOption: true,
        })
        .positional('value', {
          type: 'string',
          describe: 'the value; "-" reads it from standard input, exactly (a trailing newline stays)',
          demandOption: true,
        }),
    )
      .example('$0 set user:42 Ada', 'prints OK')
      .example('$0 --json set user:42 Ada', 'prints {"key":"user:42","version":"...","acks":2}')
      .example('printf %s "$TEXT" | $0 set notes -', 'the value is standard input')
      .example('$0 set counter 7 --w 3', 'waits for 3 replicas')
      .example('$0 set session:9 S --ttl 30', 'the key expires in 30 s: prints OK, expires at <time>')
      .example('$0 set key -- -1', 'a value that starts with a dash goes after --'),
  run: async (args, { io, out }) => {
    const key = checkKey(args.key);
    const value = args.value === '-' ? await readUtf8(io.stdin, 'standard input', STDIN_VALUE_BYTES_MAX) : args.value;
    return runSingleRequest(args, out, (client) => client.set(key, value, args.ttl === undefined ? { w: args.w } : { w: args.w, ttl: args.ttl }), {
      write: true,
      plain: (answer) => (answer.expiresAt === undefined ? 'OK' : `OK, expires at ${new Date(answer.expiresAt).toISOString()}`),
    });
  },
};
