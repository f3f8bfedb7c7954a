import { run } from './cli';
import { ExitCode } from './exit-codes';
import { processIo } from './io';

// A reader that goes away early (`kv get big | head -c 10`) is not an error of kv: stop quietly, as a program killed by
// SIGPIPE would, instead of crashing with EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(ExitCode.Ok);
  throw err;
});

// The process ends with the command's exit code once its output has been flushed: an exit that does not wait could cut
// a large answer written to a pipe short.
run(process.argv.slice(2), processIo())
  .catch((err: unknown) => {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`kv: unexpected error (a bug): ${detail}\n`);
    return ExitCode.Failure;
  })
  .then((code) => {
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
