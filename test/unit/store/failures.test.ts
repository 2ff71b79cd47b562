import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LedgerflowError } from '../../../src/domain/errors';
import { classifyFailure } from '../../../src/store/failures';
import { LoadShortfallError } from '../../../src/store/load';

/** Errors shaped as mysql2 raises them (code, errno, sqlState), and ours. */
const sqlError = (code: string, errno: number, sqlState: string, fatal = false) => Object.assign(new Error(code), { code, errno, sqlState, fatal });

test('failures are classified by errno, SQLSTATE and driver codes, never by message text', () => {
  const cases: Array<[unknown, string]> = [
    [sqlError('ER_LOCK_DEADLOCK', 1213, '40001'), 'transient'],
    [sqlError('ER_LOCK_WAIT_TIMEOUT', 1205, 'HY000'), 'transient'],
    [sqlError('ER_OPTION_PREVENTS_STATEMENT', 1290, 'HY000'), 'transient'],
    [sqlError('PROTOCOL_CONNECTION_LOST', 0, '', true), 'transient'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' }), 'transient'],
    [sqlError('ER_NO_SUCH_TABLE', 1146, '42S02'), 'systemic'],
    [sqlError('ER_TABLEACCESS_DENIED_ERROR', 1142, '42000'), 'systemic'],
    [sqlError('ER_WARN_DATA_OUT_OF_RANGE', 1264, '22003'), 'deterministic'],
    [sqlError('ER_CONSTRAINT_FAILED', 4025, '23000'), 'deterministic'],
    [sqlError('ER_SIGNAL_EXCEPTION', 1644, '45000'), 'deterministic'],
    [sqlError('ER_DUP_ENTRY', 1062, '23000'), 'unknown'],
    [sqlError('ER_UNKNOWN_5999', 5999, 'HY000'), 'unknown'],
    [new LedgerflowError('LF_INVARIANT', 'transfers must net to zero'), 'deterministic'],
    [new RangeError('offset out of range'), 'deterministic'],
    [new Error('something else'), 'unknown'],
  ];
  for (const [err, expected] of cases) assert.equal(classifyFailure(err).class, expected, String((err as Error).message));
});

test('a LOAD DATA that skipped rows carries the code its INSERT would have raised, and is classified by it', () => {
  const result = { affectedRows: 1, warningStatus: 1 };
  const check = new LoadShortfallError('transactions', 2, result, [{ Code: 4025, Message: 'CONSTRAINT `ck` failed' }]);
  assert.deepEqual([check.errno, classifyFailure(check).class, classifyFailure(check).code], [4025, 'deterministic', 'errno:4025']);
  const duplicate = new LoadShortfallError('transactions', 2, result, [{ Code: 1264, Message: 'out of range' }, { Code: 1062, Message: 'Duplicate entry' }]);
  assert.equal(duplicate.errno, 1062, 'a duplicate wins: the lookup path handles it');
});

test('the failure keeps a short code and the message (bounded) for the parked row and the metrics', () => {
  const f = classifyFailure(sqlError('ER_WARN_DATA_OUT_OF_RANGE', 1264, '22003'));
  assert.deepEqual([f.code, f.errno], ['ER_WARN_DATA_OUT_OF_RANGE', 1264]);
  assert.equal(classifyFailure(new Error('x'.repeat(5000))).message.length, 1000);
});
