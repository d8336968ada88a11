// Unit tests of the console page's resume and presence decisions (npm test).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describePresence, newPageId, nextPresenceDelay, presenceUrl, startPresence, withResume,
} from '../../src/OrleansVncCluster.Relay/wwwroot/console/console-presence.js';
import { createTranslator } from '../../src/OrleansVncCluster.Relay/wwwroot/console/console-core.js';
import english from '../../src/OrleansVncCluster.Relay/wwwroot/console/i18n/en.js';
import spanish from '../../src/OrleansVncCluster.Relay/wwwroot/console/i18n/es.js';

const t = createTranslator(english, 'en');

test('a page id is 22 URL-safe characters and differs between pages', () => {
  const first = newPageId();
  assert.match(first, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(first, newPageId());
});

test('the WebSocket URL gets the page id next to what it already presents', () => {
  assert.equal(withResume('ws://relay.example/websockify?ticket=vt2.k.x', 'abcdefghijklmnop1234'),
    'ws://relay.example/websockify?ticket=vt2.k.x&resume=abcdefghijklmnop1234');
});

test('a malformed page id is not added', () => {
  assert.equal(withResume('ws://relay.example/websockify?token=t', 'short'), 'ws://relay.example/websockify?token=t');
  assert.equal(withResume('ws://relay.example/websockify?token=t', 'a;b=c&d=eeeeeeeeeeeeee'), 'ws://relay.example/websockify?token=t');
});

test('the presence URL is the relay path over http(s) with the page id only, never the ticket', () => {
  assert.equal(presenceUrl('wss://relay.example/websockify?ticket=vt2.k.x&resume=abcdefghijklmnop1234', 'abcdefghijklmnop1234'),
    'https://relay.example/websockify/presence?resume=abcdefghijklmnop1234');
  assert.equal(presenceUrl('ws://127.0.0.1:6080/websockify/?token=t', 'abcdefghijklmnop1234'),
    'http://127.0.0.1:6080/websockify/presence?resume=abcdefghijklmnop1234');
});

test('a view session shows the view-only banner', () => {
  const shown = describePresence({ role: 'view', viewers: 0 }, t);
  assert.equal(shown.viewOnly, true);
  assert.equal(shown.text, 'View only: your keyboard and mouse do not reach the VM.');
});

test('the owner sees how many watch, in the page\'s language', () => {
  assert.equal(describePresence({ role: 'control', viewers: 0 }, t).text, '');
  assert.equal(describePresence({ role: 'control', viewers: 1 }, t).text, '1 person watching');
  assert.equal(describePresence({ role: 'control', viewers: 3 }, t).text, '3 people watching');
  assert.equal(describePresence({ role: 'control', viewers: 2 }, createTranslator(spanish, 'es')).text, '2 personas mirando');
});

test('a viewer among viewers sees both', () => {
  assert.equal(describePresence({ role: 'view', viewers: 2 }, t).text, 'View only: your keyboard and mouse do not reach the VM. · 2 people watching');
});

test('no answer shows nothing', () => {
  assert.deepEqual(describePresence(null, t), { viewOnly: false, text: '' });
});

test('the next call follows the relay within 5 s and 5 min', () => {
  assert.equal(nextPresenceDelay({ refreshSeconds: 30 }), 30000);
  assert.equal(nextPresenceDelay({ refreshSeconds: 1 }), 5000);
  assert.equal(nextPresenceDelay({ refreshSeconds: 100000 }), 300000);
  assert.equal(nextPresenceDelay(null), 30000);
});

test('presence calls again as advised and stops when told', async () => {
  const answers = [];
  const timers = [];
  const fetchFn = async () => ({ ok: true, json: async () => ({ role: 'control', viewers: 2, refreshSeconds: 7 }) });
  const stop = startPresence('http://relay/websockify/presence?resume=x', (a) => answers.push(a), {
    fetchFn, setTimer: (fn, delay) => { timers.push(delay); return timers.length; }, clearTimer: () => {},
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(answers.length, 1);
  assert.deepEqual(timers, [7000]);
  stop();
});

test('a failed call reports no answer and tries again later', async () => {
  const answers = [];
  const timers = [];
  startPresence('u', (a) => answers.push(a), {
    fetchFn: async () => ({ ok: false }), setTimer: (fn, delay) => timers.push(delay), clearTimer: () => {},
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(answers, [null]);
  assert.deepEqual(timers, [30000]);
});
