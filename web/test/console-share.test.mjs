// Unit tests of the console page's share button decisions (npm test).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mayShare, minutesLeft, requestShare, shareUrl } from '../../src/OrleansVncCluster.Relay/wwwroot/console/console-share.js';

const page = 'abcdefghijklmnop1234';

test('the share URL is the relay path over http(s) with the page id only, never the ticket', () => {
  assert.equal(shareUrl(`wss://relay.example/websockify?ticket=vt2.k.x&resume=${page}`, page),
    `https://relay.example/websockify/share?resume=${page}`);
  assert.equal(shareUrl('ws://127.0.0.1:6080/websockify/?token=t', page), `http://127.0.0.1:6080/websockify/share?resume=${page}`);
});

test('the button shows only for a control session the relay says may share', () => {
  assert.equal(mayShare({ role: 'control', mayShare: true }), true);
  assert.equal(mayShare({ role: 'control', mayShare: false }), false);
  assert.equal(mayShare({ role: 'control' }), false, 'a relay from before the share button says nothing: no button');
  assert.equal(mayShare({ role: 'view', mayShare: true }), false);
  assert.equal(mayShare(null), false);
});

test('a share answer becomes an absolute link on the page origin, asked for with POST and the page cookie', async () => {
  let asked = null;
  const fetchFn = async (url, init) => {
    asked = { url, init };
    return { ok: true, status: 200, json: async () => ({ url: '/console#ticket=vt2.k.x', expires: '2026-12-02T17:00:00Z' }) };
  };
  const shared = await requestShare(`https://relay.example/websockify/share?resume=${page}`, 'https://relay.example/console', { fetchFn });
  assert.deepEqual(shared, { link: 'https://relay.example/console#ticket=vt2.k.x', expires: '2026-12-02T17:00:00Z' });
  assert.equal(asked.init.method, 'POST');
  assert.equal(asked.init.credentials, 'same-origin');
});

test("a refusal brings the relay's reason, or the status when it gave none", async () => {
  const refused = async () => ({ ok: false, status: 403, json: async () => ({ error: 'this console\'s ticket does not allow sharing' }) });
  assert.deepEqual(await requestShare('https://r/websockify/share', 'https://r/', { fetchFn: refused }),
    { error: 'this console\'s ticket does not allow sharing' });
  const bare = async () => ({ ok: false, status: 503, json: async () => { throw new SyntaxError('no JSON'); } });
  assert.deepEqual(await requestShare('https://r/websockify/share', 'https://r/', { fetchFn: bare }), { error: 'HTTP 503' });
  const offline = async () => { throw new TypeError('Failed to fetch'); };
  assert.deepEqual(await requestShare('https://r/websockify/share', 'https://r/', { fetchFn: offline }), { error: 'Failed to fetch' });
});

test('the note counts whole minutes left, at least one', () => {
  const now = Date.parse('2026-12-02T16:50:00Z');
  assert.equal(minutesLeft('2026-12-02T17:00:00Z', now), 10);
  assert.equal(minutesLeft('2026-12-02T16:50:10Z', now), 1);
  assert.equal(minutesLeft('not a date', now), 1);
});
