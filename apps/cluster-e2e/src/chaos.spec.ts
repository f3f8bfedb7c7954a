import { CI_SCENARIOS, Random, SCENARIOS, runScenario, seedFromEnv, summarize } from '@kv/testkit';

// The short chaos profile of `npm test`: a few scenarios of about 12 s each. `npm run chaos` runs the long one.
// KV_CHAOS_SEED replays a run (its seed is printed); KV_CHAOS_SECONDS sets the length of each scenario.
const master = new Random(seedFromEnv());
const seconds = Number(process.env.KV_CHAOS_SECONDS ?? 12);

beforeAll(() => {
  process.stdout.write(`chaos short profile: master seed ${master.seed} (replay with KV_CHAOS_SEED=${master.seed})\n`);
});

describe.each(CI_SCENARIOS.map((name) => [name]))('%s', (name) => {
  test('no violation: linearizable per key (or no lost insert), replicas converge', async () => {
    const template = SCENARIOS.find((s) => s.name === name);
    if (template === undefined) throw new Error(`no scenario ${name}`);
    const lines: string[] = [];
    const result = await runScenario({ ...template, seed: master.int(0x7fffffff), durationMs: seconds * 1000, log: (line) => lines.push(line) });
    const summary = summarize(result);
    process.stdout.write(`${summary}\n`);
    if (!result.valid) throw new Error([summary, ...lines, ...result.reports].join('\n'));
    expect(result.faults.length).toBeGreaterThan(0);
    expect(result.ops).toBeGreaterThan(100);
  });
});
