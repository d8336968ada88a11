// The Abiquo drop-in's md5 must give the tokens Abiquo's token sync writes (md5 of "vdrpIP:vdrpPort").
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import '../../deploy/abiquo-ui/md5.js';

const md5 = globalThis.abiquoConsoleMd5;

test('gives the tokens of the Abiquo examples', () => {
  assert.equal(md5('10.60.1.79:5901'), '2e843805d056a266227cbb6b699a7ee0');
  assert.equal(md5('10.60.1.79:5902'), '01c1e7885b7dddcbd4815db0fb484cd5');
});

test('agrees with node:crypto across the padding boundaries and for non-ASCII text', () => {
  const inputs = ['', 'abc', 'ünïcødé ✓'];
  for (const length of [55, 56, 57, 63, 64, 65, 119, 120, 1000]) {
    inputs.push('x'.repeat(length));
  }
  for (const input of inputs) {
    assert.equal(md5(input), createHash('md5').update(input, 'utf8').digest('hex'), `md5 of ${input.length} characters`);
  }
});
