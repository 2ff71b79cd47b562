import type { Config } from '../config';
import { LedgerflowError } from '../domain/errors';
import { conflictsOfTransaction, listConflicts, type Conflict } from '../store/conflicts';
import { createPool } from '../store/pool';
import { getTransaction } from '../store/queries';
import { parseCommandArgs, positiveIntOption } from './args';

export const CONFLICTS_USAGE = `ledgerflow conflicts list [--limit N] [--json]
                                      events whose transaction id is stored with other content, oldest first:
                                      the losing variant's source, what differs from the stored row, outcome
ledgerflow conflicts show <transaction id>
                                      the stored row and every conflicting variant of that id (content, the
                                      message as produced when it arrived after the stored one)`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function line(c: Conflict): string {
  return `${c.recordedAt}  ${c.txId}  variant ${c.variant.partition}:${c.variant.offset} vs stored ${c.stored.partition}:${c.stored.offset}  ${c.outcome.padEnd(13)} differs: ${c.fields.join(', ')}`;
}

export async function conflictsCommand(config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('conflicts', args, { limit: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } });
  const [sub, id, ...extra] = positionals;
  if (values.help || sub === undefined || sub === 'help') {
    process.stdout.write(`${CONFLICTS_USAGE}\n`);
    return sub === undefined && !values.help ? 2 : 0;
  }
  if (extra.length > 0) throw new LedgerflowError('LF_CONFIG', `conflicts ${sub}: unexpected ${extra.join(' ')}`);
  const pool = createPool(config, 'app', 1);
  try {
    switch (sub) {
      case 'list': {
        const { items, next } = await listConflicts(pool, config.kafka.topic, { limit: positiveIntOption('conflicts', 'limit', values.limit, 50) });
        if (values.json) process.stdout.write(`${JSON.stringify({ items, next }, null, 2)}\n`);
        else {
          for (const c of items) process.stdout.write(`${line(c)}\n`);
          process.stdout.write(`${items.length} conflict(s)${next ? ' (more: --limit)' : ''}\n`);
        }
        return 0;
      }
      case 'show': {
        if (id === undefined || !UUID.test(id)) throw new LedgerflowError('LF_CONFIG', `conflicts show: give a transaction id (a lowercase UUID), got ${JSON.stringify(id ?? '')}`);
        const conflicts = await conflictsOfTransaction(pool, id);
        if (conflicts.length === 0) throw new LedgerflowError('LF_NOT_FOUND', `no conflict recorded for transaction ${id}`, id);
        process.stdout.write(`${JSON.stringify({ stored: await getTransaction(pool, id), conflicts }, null, 2)}\n`);
        return 0;
      }
      default:
        throw new LedgerflowError('LF_CONFIG', `conflicts: unknown subcommand ${JSON.stringify(sub)}; one of list, show (ledgerflow conflicts --help)`);
    }
  } finally {
    await pool.end();
  }
}
