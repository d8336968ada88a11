// Unit tests of the console page's decisions (npm test); the page's behaviour in a browser is tested by
// tests/OrleansVncCluster.IntegrationTests/Console.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  backoffDelay, buildSocketUrl, describeClose, describeSecurityFailure, hasToken, isTicket, readSettings, withoutPassword,
  withoutSecrets,
} from '../../src/OrleansVncCluster.Relay/wwwroot/console/console-core.js';

const page = { protocol: 'http:', host: 'relay.example.com:6080' };

test('defaults follow noVNC: autoconnect on, scale to the window, no general reconnect', () => {
  const settings = readSettings('?token=abc', '');
  assert.equal(settings.token, 'abc');
  assert.equal(settings.autoconnect, true);
  assert.equal(settings.resize, 'scale');
  assert.equal(settings.viewOnly, false);
  assert.equal(settings.reconnect, false);
  assert.equal(settings.reconnectDelay, 5000);
  assert.equal(settings.path, 'websockify');
  assert.equal(settings.password, null);
});

test('the fragment wins over the query, and carries the password', () => {
  const settings = readSettings('?token=abc&resize=off', '#password=s%20cret&resize=remote');
  assert.equal(settings.password, 's cret');
  assert.equal(settings.passwordInQuery, false);
  assert.equal(settings.resize, 'remote');
});

test('flags accept noVNC spellings and ignore nonsense', () => {
  assert.equal(readSettings('?autoconnect=false', '').autoconnect, false);
  assert.equal(readSettings('?autoconnect=0', '').autoconnect, false);
  assert.equal(readSettings('?view_only=1', '').viewOnly, true);
  assert.equal(readSettings('?view_only=maybe', '').viewOnly, false);
  assert.equal(readSettings('?resize=huge', '').resize, 'scale');
  assert.equal(readSettings('?reconnect_delay=5', '').reconnectDelay, 100);
});

test('the socket goes back to the page origin, ws for http and wss for https', () => {
  const settings = readSettings('?token=a/b', '');
  assert.equal(buildSocketUrl(settings, page), 'ws://relay.example.com:6080/websockify?token=a%2Fb');
  assert.equal(buildSocketUrl(settings, { protocol: 'https:', host: 'console.example.com' }),
    'wss://console.example.com/websockify?token=a%2Fb');
});

test('a token inside the path parameter is used as given', () => {
  const settings = readSettings(`?path=${encodeURIComponent('websockify?token=xyz')}`, '');
  assert.equal(buildSocketUrl(settings, page), 'ws://relay.example.com:6080/websockify?token=xyz');
  assert.equal(hasToken(settings, ''), true);
});

test('host, port and encrypt may name another relay', () => {
  assert.equal(buildSocketUrl(readSettings('?token=t&host=10.0.0.5&port=41338&encrypt=1', ''), page),
    'wss://10.0.0.5:41338/websockify?token=t');
  assert.equal(buildSocketUrl(readSettings('?token=t&port=41338', ''), page), 'ws://relay.example.com:41338/websockify?token=t');
  assert.equal(buildSocketUrl(readSettings('?token=t&host=::1&port=1', ''), page), 'ws://[::1]:1/websockify?token=t');
});

test('a token cookie counts as a token (old pages set one)', () => {
  const settings = readSettings('', '');
  assert.equal(hasToken(settings, 'lang=en; token=abc'), true);
  assert.equal(hasToken(settings, 'lang=en'), false);
});

test('relay refusals read as sentences that keep the relay reason', () => {
  const unknown = describeClose({ code: 4404, reason: 'unknown console token' }, false);
  assert.match(unknown.text, /does not exist or has expired/);
  assert.match(unknown.text, /unknown console token/);
  assert.equal(unknown.kind, 'relay');
  assert.equal(unknown.retry, false);
  assert.match(describeClose({ code: 4410, reason: 'console revoked' }, true).text, /revoked/);
  assert.match(describeClose({ code: 4400, reason: '' }, false).text, /malformed/);
  assert.match(describeClose({ code: 1011, reason: 'console target refused the connection' }, false).text, /could not reach the VM/);
  assert.match(describeClose({ code: 4429, reason: '' }, false).text, /Too many consoles/);
  assert.match(describeClose({ code: 4429, reason: 'too many consoles open from your address: close one and try again' }, false).text, /from your network address/);
  assert.match(describeClose({ code: 4429, reason: 'too many consoles open for this VM: close one and try again' }, false).text, /for this VM/);
  assert.match(describeClose({ code: 4429, reason: 'too many connection attempts from your address: retry in 1 s' }, false).text, /connected too often/);
  assert.match(describeClose({ code: 4429, reason: 'too many invalid console tokens from your address: retry in 60 s' }, false).text, /invalid console links/);
  assert.match(describeClose({ code: 4429, reason: 'relay node is full: try again shortly' }, false).text, /node is full/);
  assert.match(describeClose({ code: 4403, reason: 'console target address is not allowed by this relay' }, false).text, /may not connect/);
});

test('a draining node asks for a reconnect; a closed VM console does not', () => {
  for (const code of [1001, 1012, 1013]) {
    const outcome = describeClose({ code, reason: 'relay node is draining: reconnect' }, true);
    assert.equal(outcome.kind, 'drain');
    assert.equal(outcome.retry, true);
  }
  assert.equal(describeClose({ code: 1000, reason: '' }, true).retry, false);
  assert.equal(describeClose({ code: 1000, reason: '' }, true).kind, 'ended');
});

test('a lost connection is retried only when it had worked', () => {
  assert.equal(describeClose({ code: 1006, reason: '' }, true).retry, true);
  assert.equal(describeClose({ code: 1006, reason: '' }, false).retry, false);
  assert.match(describeClose(null, false).text, /Could not reach the console relay/);
});

test('backoff starts quick, doubles, is capped and jittered', () => {
  const middle = () => 0.5;
  assert.equal(backoffDelay(0, middle), 250);
  assert.equal(backoffDelay(1, middle), 500);
  assert.equal(backoffDelay(3, middle), 2000);
  assert.equal(backoffDelay(20, middle), 10000);
  assert.equal(backoffDelay(0, () => 0), 188);
  assert.equal(backoffDelay(0, () => 1), 313);
});

test('an authentication failure says so, with the server reason when given', () => {
  assert.match(describeSecurityFailure({ status: 1 }), /^Authentication failed/);
  assert.match(describeSecurityFailure({ status: 1, reason: 'Authentication failure' }), /server says: "Authentication failure"/);
});

test('the password is scrubbed from query and fragment, the rest stays', () => {
  assert.equal(withoutPassword('http://h/console?token=t&password=p#password=q&resize=off'),
    'http://h/console?token=t#resize=off');
  assert.equal(withoutPassword('http://h/console?token=t#password=q'), 'http://h/console?token=t');
});

test('a ticket is read from the fragment or the query and sent as ticket=', () => {
  const fromFragment = readSettings('', '#ticket=vt1.AAAAAAAA.body.mac');
  assert.equal(fromFragment.ticket, 'vt1.AAAAAAAA.body.mac');
  assert.equal(hasToken(fromFragment, ''), true);
  assert.equal(buildSocketUrl(fromFragment, page), 'ws://relay.example.com:6080/websockify?ticket=vt1.AAAAAAAA.body.mac');
  assert.equal(readSettings('?ticket=vt1.x', '').ticket, 'vt1.x');
  assert.equal(hasToken(readSettings('?path=websockify%3Fticket%3Dvt1.x', ''), ''), true);
});

test('ticket refusals say what happened to the link', () => {
  const sentences = {
    4401: /altered/, 4409: /already used/, 4412: /another VM/, 4419: /expired/, 4421: /key the relay does not accept/, 4426: /signed link/,
  };
  for (const [code, pattern] of Object.entries(sentences)) {
    const outcome = describeClose({ code: Number(code), reason: 'relay words' }, false);
    assert.match(outcome.text, pattern);
    assert.match(outcome.text, /relay words/);
    assert.equal(outcome.retry, false);
  }
});

// A sealed, VM-bound ticket as POST /api/tickets issues it since 2.0 (vt2.KEYID.SEALED): opaque base64url.
const VT2 = 'vt2.Kx3fQ0aZ.q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJ-_-_';

test('a vt2 ticket is read, sent and recognised as a vt1 ticket is', () => {
  const settings = readSettings('', `#ticket=${VT2}`);
  assert.equal(settings.ticket, VT2);
  assert.equal(hasToken(settings, ''), true);
  assert.equal(buildSocketUrl(settings, page), `ws://relay.example.com:6080/websockify?ticket=${VT2}`);
  assert.equal(buildSocketUrl(readSettings(`?token=${VT2}`, ''), page), `ws://relay.example.com:6080/websockify?token=${VT2}`);
  assert.equal(isTicket(VT2), true);
  assert.equal(isTicket('vt1.AAAAAAAA.body.mac'), true);
  assert.equal(isTicket('2e843805d056a266227cbb6b699a7ee0'), false);
});

test('the ticket leaves the URL once read, from the fragment, the query, or where noVNC puts a token', () => {
  assert.equal(withoutSecrets(`https://c/console#ticket=${VT2}&password=p&resize=off`), 'https://c/console#resize=off');
  assert.equal(withoutSecrets(`https://c/console?ticket=${VT2}&view_only=1`), 'https://c/console?view_only=1');
  assert.equal(withoutSecrets(`https://c/console?token=${VT2}`), 'https://c/console');
  assert.equal(withoutSecrets('https://c/console?token=vt1.AAAAAAAA.body.mac#resize=off'), 'https://c/console#resize=off');
  // A plain md5 token is no secret (it is the address's md5): the page keeps it, so a reload still works.
  assert.equal(withoutSecrets('https://c/console?token=2e843805d056a266227cbb6b699a7ee0'), 'https://c/console?token=2e843805d056a266227cbb6b699a7ee0');
});

test('the page scrubs the URL with history.replaceState before it connects', async () => {
  const { readFile } = await import('node:fs/promises');
  const page = await readFile(new URL('../../src/OrleansVncCluster.Relay/wwwroot/console/console.js', import.meta.url), 'utf8');
  const scrub = page.indexOf('history.replaceState(history.state, \'\', scrubbed)');
  assert.ok(page.includes('const scrubbed = withoutSecrets(location.href);'), 'console.js computes the URL without secrets');
  assert.ok(scrub > 0, 'console.js replaces the history entry with the scrubbed URL');
  assert.ok(scrub < page.indexOf('function connect()'), 'the URL is scrubbed at load, before any connection');
});
