// `npm run chaos`: the long fault-injection profile. Cycles through the scenarios of the catalogue (a workload against
// a real cluster while nemeses strike, then linearizability, set and convergence checks) for --minutes, printing one
// line per scenario and a final line `chaos: <trials> trials, <ops> ops, <violations> violations`. Exits 1 on any
// violation. Needs the built apps (`npm run build`); the seed of each trial is printed and --seed replays it.
//
// usage: npm run chaos -- [--minutes N] [--seed S] [--scenario NAME] [--trial-seconds S] [--proxies N] [--json FILE] [--report FILE]
//        npm run chaos -- --soak [--minutes N] [--seed S] [--warmup-seconds S] [--rss-margin PERCENT] [--no-collection]
// --proxies N runs every scenario with N proxies (clients spread over them) and adds the proxies' faults to its own:
// kill, pause and restart of proxies, and their clocks stepped apart.
// --report writes a Markdown summary (docs/chaos-last-run.md is the one docs/reliability.md links to).
// --soak runs, instead of the scenarios, a long delete-heavy run (deletes and ttl sets over keys never used again) for
// --minutes (4 by default) and fails unless tombstones stay bounded and the data nodes' resident memory stays flat;
// --warmup-seconds (60) is when memory is first measured, --rss-margin (25) the percent it may grow by after that;
// --no-collection runs it without anti-entropy rounds, which must fail (the check can fail).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import {
  SCENARIOS,
  Random,
  formatSoak,
  runScenario,
  runTombstoneSoak,
  summarize,
  type NemesisName,
  type ScenarioResult,
  type ScenarioTemplate,
} from '@kv/testkit';

interface Args {
  minutes: number;
  seed: number | undefined;
  scenario: string | undefined;
  trialSeconds: number;
  proxies: number | undefined;
  json: string | undefined;
  report: string | undefined;
  soak: boolean;
  collection: boolean;
  warmupSeconds: number;
  rssMargin: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    minutes: NaN,
    seed: undefined,
    scenario: undefined,
    trialSeconds: 30,
    proxies: undefined,
    json: undefined,
    report: undefined,
    soak: false,
    collection: true,
    warmupSeconds: 60,
    rssMargin: 25,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--soak' || flag === '--no-collection') {
      if (flag === '--soak') args.soak = true;
      else args.collection = false;
      continue;
    }
    const value = inline ?? argv[++i];
    switch (flag) {
      case '--warmup-seconds':
        args.warmupSeconds = Number(value);
        break;
      case '--rss-margin':
        args.rssMargin = Number(value);
        break;
      case '--minutes':
        args.minutes = Number(value);
        break;
      case '--seed':
        args.seed = Number(value);
        break;
      case '--scenario':
        args.scenario = value;
        break;
      case '--trial-seconds':
        args.trialSeconds = Number(value);
        break;
      case '--proxies':
        args.proxies = Number(value);
        break;
      case '--json':
        args.json = value;
        break;
      case '--report':
        args.report = value;
        break;
      case '--help':
        process.stdout.write(
          'usage: npm run chaos -- [--minutes N] [--seed S] [--scenario NAME] [--trial-seconds S] [--proxies N] [--json FILE] [--report FILE]\n' +
            '       npm run chaos -- --soak [--minutes N] [--seed S] [--warmup-seconds S] [--rss-margin PERCENT] [--no-collection]\n',
        );
        process.exit(0);
        break;
      default:
        process.stderr.write(`chaos: unknown argument ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (Number.isNaN(args.minutes)) args.minutes = args.soak ? 4 : 10;
  if (args.soak && !(args.warmupSeconds > 0 && args.warmupSeconds < args.minutes * 60 && args.rssMargin >= 0)) {
    process.stderr.write('chaos: --warmup-seconds must be positive and shorter than --minutes, --rss-margin a percent >= 0\n');
    process.exit(2);
  }
  const badProxies = args.proxies !== undefined && !(Number.isInteger(args.proxies) && args.proxies >= 1 && args.proxies <= 9);
  if (!(args.minutes > 0) || !(args.trialSeconds > 0) || (args.seed !== undefined && !Number.isInteger(args.seed)) || badProxies) {
    process.stderr.write('chaos: --minutes and --trial-seconds must be positive, --seed an integer, --proxies 1..9\n');
    process.exit(2);
  }
  return args;
}

/** The faults of proxies, added to every scenario run with several. */
const PROXY_NEMESES: readonly NemesisName[] = ['kill-proxy', 'pause-proxy', 'restart-proxy', 'proxy-clock-skew'];

/** A scenario run with `proxies` proxies (when given): its own faults plus those of the proxies. */
function withProxies(template: ScenarioTemplate, proxies: number | undefined): ScenarioTemplate {
  if (proxies === undefined) return template;
  const nemeses = proxies > 1 ? [...new Set([...template.nemeses, ...PROXY_NEMESES])] : template.nemeses;
  return { ...template, name: `${template.name}@${proxies}p`, proxies, nemeses };
}

/** `--soak`: the long delete-heavy run; prints its samples as they come, then their table and the verdict. */
async function soak(args: Args): Promise<void> {
  const seed = args.seed ?? Math.floor(Math.random() * 0x7fffffff);
  process.stdout.write(
    `chaos soak: seed ${seed}, ${args.minutes} min, warm-up ${args.warmupSeconds} s, RSS margin ${args.rssMargin}%${args.collection ? '' : ', no collection'}\n`,
  );
  const result = await runTombstoneSoak({
    seed,
    durationMs: args.minutes * 60_000,
    warmupMs: args.warmupSeconds * 1000,
    rssMarginPercent: args.rssMargin,
    collection: args.collection,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`${formatSoak(result)}\n`);
  process.exit(result.valid ? 0 : 1);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.soak) return soak(args);
  const scenarios = args.scenario === undefined ? SCENARIOS : SCENARIOS.filter((s) => s.name === args.scenario);
  if (scenarios.length === 0) {
    process.stderr.write(`chaos: no scenario ${args.scenario}; known: ${SCENARIOS.map((s) => s.name).join(', ')}\n`);
    process.exit(2);
  }
  const master = new Random(args.seed ?? Math.floor(Math.random() * 0x7fffffff));
  process.stdout.write(`chaos: master seed ${master.seed}, ${args.minutes} min, trials of ${args.trialSeconds} s\n`);
  const deadline = Date.now() + args.minutes * 60_000;
  const results: ScenarioResult[] = [];
  // With --seed and a single scenario, the first trial uses the seed itself, so a printed trial seed replays exactly.
  let first = true;
  for (let trial = 0; Date.now() < deadline || trial === 0; trial++) {
    const template = withProxies(scenarios[trial % scenarios.length], args.proxies);
    const seed = first && args.seed !== undefined && scenarios.length === 1 ? args.seed : master.int(0x7fffffff);
    first = false;
    const result = await runScenario({
      ...template,
      seed,
      durationMs: args.trialSeconds * 1000,
      keepFilesOnViolation: true,
      log: (line) => process.stdout.write(`${line}\n`),
    });
    results.push(result);
    process.stdout.write(`${summarize(result)}\n`);
    if (!result.valid) {
      for (const report of result.reports) process.stdout.write(`${report}\n`);
      if (result.keptDir !== undefined) process.stdout.write(`  cluster files kept in ${result.keptDir}\n`);
      process.stdout.write(
        `  replay: npm run chaos -- --scenario ${result.name} --seed ${result.seed} --trial-seconds ${args.trialSeconds} --minutes 0.1\n`,
      );
    }
  }
  const ops = results.reduce((sum, r) => sum + r.ops, 0);
  const faults = results.reduce((sum, r) => sum + r.faults.length, 0);
  const violations = results.reduce((sum, r) => sum + r.violations, 0);
  if (args.json !== undefined) {
    writeFileSync(
      args.json,
      JSON.stringify(
        {
          masterSeed: master.seed,
          trials: results.length,
          ops,
          faults,
          violations,
          scenarios: results.map(({ name, seed, ops: n, faults: f, violations: v, durationMs }) => ({ name, seed, ops: n, faults: f.length, violations: v, durationMs })),
        },
        null,
        2,
      ),
    );
  }
  if (args.report !== undefined) writeReport(args, master.seed, results);
  process.stdout.write(`chaos: ${faults} faults injected\n`);
  process.stdout.write(`chaos: ${results.length} trials, ${ops} ops, ${violations} violations\n`);
  process.exit(violations === 0 ? 0 : 1);
}

function writeReport(args: Args, masterSeed: number, results: ScenarioResult[]): void {
  const byScenario = new Map<string, { trials: number; ops: number; faults: number; violations: number; undecided: number }>();
  for (const r of results) {
    const row = byScenario.get(r.name) ?? { trials: 0, ops: 0, faults: 0, violations: 0, undecided: 0 };
    row.trials += 1;
    row.ops += r.ops;
    row.faults += r.faults.length;
    row.violations += r.violations;
    if (r.register?.valid === 'unknown') row.undecided += 1;
    byScenario.set(r.name, row);
  }
  const total = [...byScenario.values()].reduce(
    (sum, row) => ({ trials: sum.trials + row.trials, ops: sum.ops + row.ops, faults: sum.faults + row.faults, violations: sum.violations + row.violations }),
    { trials: 0, ops: 0, faults: 0, violations: 0 },
  );
  const lines = [
    '# Last long chaos run',
    '',
    `\`npm run chaos -- --minutes ${args.minutes} --trial-seconds ${args.trialSeconds}${args.proxies === undefined ? '' : ` --proxies ${args.proxies}`}${args.scenario === undefined ? '' : ` --scenario ${args.scenario}`}\`, master seed ${masterSeed}, finished ` +
      `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node.js ${process.version}.`,
    '',
    '| scenario | trials | operations | faults | violations | linearizability undecided |',
    '|---|---:|---:|---:|---:|---:|',
    ...[...byScenario].map(([name, row]) => `| ${name} | ${row.trials} | ${row.ops} | ${row.faults} | ${row.violations} | ${row.undecided} |`),
    `| **total** | ${total.trials} | ${total.ops} | ${total.faults} | ${total.violations} | |`,
    '',
    `chaos: ${total.trials} trials, ${total.ops} ops, ${total.violations} violations`,
    '',
  ];
  writeFileSync(args.report as string, lines.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
