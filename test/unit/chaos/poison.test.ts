import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../src/config';
import { CHAOS_MAX_AMOUNT_MINOR, OVERFLOW_APPLIED, OVERFLOW_CREDITS } from '../../../src/chaos/poison';
import { BALANCE_MAX_MINOR } from '../../../src/domain/money';
import { kafkaClusterBrokers } from '../../../src/stack';

test('a poison fault overflows for real: the raised limit is accepted and some of its credits cannot fit in a balance', () => {
  assert.equal(loadConfig({ 'rules.maxAmountMinor': CHAOS_MAX_AMOUNT_MINOR }).rules.maxAmountMinor, CHAOS_MAX_AMOUNT_MINOR);
  const big = BigInt(CHAOS_MAX_AMOUNT_MINOR);
  assert.ok(BigInt(OVERFLOW_APPLIED) * big <= BALANCE_MAX_MINOR);
  assert.ok(BigInt(OVERFLOW_APPLIED + 1) * big > BALANCE_MAX_MINOR);
  assert.ok(OVERFLOW_CREDITS > OVERFLOW_APPLIED, 'at least one credit is rejected balance_overflow');
});

test('the 3-broker profile listens at stack.kafkaClusterBasePort, so two checkouts can each run one', () => {
  assert.equal(kafkaClusterBrokers(loadConfig({})), '127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096');
  assert.equal(kafkaClusterBrokers(loadConfig({ 'stack.kafkaClusterBasePort': 27092 })), '127.0.0.1:27092,127.0.0.1:27094,127.0.0.1:27096');
});
