import { parseArgs } from 'node:util';
import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import type { Logger } from '../telemetry/log';

function numberArg(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new LedgerflowError('LF_CONFIG', `--${name} must be a non-negative number, got ${JSON.stringify(value)}`, name);
  return n;
}

const USAGE = `usage: ledgerflow fraud train --seed S [--count N] [--accounts A] [--fraud-rate R] [--out model.json]
       ledgerflow fraud eval --seed S [--model model.json] [--count N] [--accounts A] [--fraud-rate R]
                             [--rounds 2] [--phase-s 60] [--rate 2000] [--out docs/reports/fraud-eval.json]
  eval: precision and recall on the labelled workload through the pipeline, then detection's cost as
  CPU per committed event (consumer, worker, database), detection off and on in alternating phases
`;

/** `ledgerflow fraud train|eval`: fit the embedding on one seed, measure the detector on another. */
export async function fraudCommand(config: Config, args: string[], log: Logger): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      seed: { type: 'string' }, count: { type: 'string' }, accounts: { type: 'string' }, 'fraud-rate': { type: 'string' }, out: { type: 'string' }, model: { type: 'string' },
      rounds: { type: 'string' }, 'phase-s': { type: 'string' }, rate: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (sub !== 'train' && sub !== 'eval')) {
    (values.help ? process.stdout : process.stderr).write(USAGE);
    return values.help || sub === undefined ? 0 : 2;
  }
  if (values.seed === undefined) throw new LedgerflowError('LF_CONFIG', '--seed is required (train and evaluate on different seeds)', 'seed');
  const common = {
    seed: numberArg(values.seed, 'seed', 0),
    count: numberArg(values.count, 'count', 200_000),
    accounts: numberArg(values.accounts, 'accounts', 20_000),
    fraudRate: numberArg(values['fraud-rate'], 'fraud-rate', 0.015),
  };
  if (sub === 'train') {
    const { train } = await import('./train');
    const { file } = train(config, { ...common, out: values.out ?? (config.fraud.modelPath || 'fraud-model.json') }, log);
    process.stdout.write(`model written to ${file}\n`);
    return 0;
  }
  if (sub === 'eval') {
    const { evaluate } = await import('./eval');
    const modelPath = values.model ?? config.fraud.modelPath;
    const rounds = Math.max(1, Math.floor(numberArg(values.rounds, 'rounds', 2)));
    const phaseS = Math.max(1, numberArg(values['phase-s'], 'phase-s', 60));
    // Unset: eval's default (DEFAULT_CPU_RATE_PER_SEC in overhead.ts), loaded only when evaluating.
    const ratePerSec = values.rate === undefined ? undefined : Math.max(1, numberArg(values.rate, 'rate', 1));
    if (phaseS < 60 || rounds < 2) log.warn({ phaseS, rounds }, 'CPU phases under 60 s or a single round: the overhead figure is marked as not representative');
    const report = await evaluate(config, { ...common, modelPath, rounds, phaseS, ratePerSec, out: values.out ?? 'docs/reports/fraud-eval.json' }, log);
    if (modelPath && report.trainSeed === common.seed) log.warn('evaluated on the training seed: numbers are not a fair measure');
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.complete ? 0 : 1;
  }
  return 2;
}
