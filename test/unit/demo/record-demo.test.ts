import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskSecrets } from '../../../docs/tools/record-demo';

/** docs/demo.txt is committed: the recorder must never let a credential or password through. */
test('the recording masks API credentials by their shape and every known secret wherever it appears', () => {
  const token = 'lf_local.Q2hhbmdlIG1lIHRvIGEgcmVhbCBzZWNyZXQ';
  const password = 'hT9vQ3xLmZ2pR8wK';
  const screen = [
    `  credential   ${token}  (sign in to the live page with it)`,
    `  curl -H "Authorization: Bearer ${token}" http://127.0.0.1:8080/`,
    `  database     mysql://ledgerflow_app:${password}@127.0.0.1:3306/ledgerflow`,
    '  verify       ✓ all 19,772 valid events stored exactly once',
  ].join('\n');
  const shown = maskSecrets(screen, [`${password}\n`, 'short', '']);
  assert.doesNotMatch(shown, /Q2hhbmdlIG1lIHRvIGEgcmVhbCBzZWNyZXQ/);
  assert.ok(!shown.includes(password), shown);
  assert.match(shown, /credential +lf_local\.<secret: see \.stack\/secrets\/api-token>/, 'the credential id stays: it says which one to use');
  assert.match(shown, /ledgerflow_app:<secret>@/);
  assert.match(shown, /verify +✓ all 19,772 valid events stored exactly once/, 'everything else unchanged');
  assert.equal(maskSecrets('a short value stays', ['short']), 'a short value stays', 'values too short to be secrets mask nothing');
});
