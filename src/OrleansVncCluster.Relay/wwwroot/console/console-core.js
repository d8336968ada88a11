// The console page's decisions, kept free of the DOM and of noVNC so they can be tested on their own (web/test/):
// reading noVNC's page parameters, building the WebSocket URL, turning a relay close into words, and reconnect backoff.
// Close codes and reasons mirror src/OrleansVncCluster.Relay/Sessions/CloseReasons.cs.

/** Close codes after which the page reconnects by itself: the node is going away, another one will take the session. */
export const DRAIN_CODES = Object.freeze([1001, 1012, 1013]);

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];
const RESIZE_MODES = ['scale', 'remote', 'off'];

/**
 * Reads noVNC's page parameters from the query and the fragment (the fragment wins, as in noVNC's vnc.html). The password
 * belongs in the fragment (#password=...), which browsers never send to a server, so it stays out of access logs.
 * @param {string} search location.search
 * @param {string} hash location.hash
 */
export function readSettings(search, hash) {
  const query = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const fragment = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const get = (name) => (fragment.has(name) ? fragment.get(name) : query.get(name));
  const flag = (name, fallback) => {
    const value = (get(name) ?? '').trim().toLowerCase();
    if (TRUE_WORDS.includes(value)) {
      return true;
    }
    return FALSE_WORDS.includes(value) ? false : fallback;
  };
  const number = (name, fallback, min, max) => {
    const value = Number.parseInt(get(name) ?? '', 10);
    return Number.isFinite(value) ? Math.min(Math.max(value, min), max) : fallback;
  };
  const resize = (get('resize') ?? '').trim().toLowerCase();
  return {
    token: get('token')?.trim() || null,
    ticket: get('ticket')?.trim() || null,
    password: get('password'),
    passwordInQuery: query.has('password'),
    autoconnect: flag('autoconnect', true),
    resize: RESIZE_MODES.includes(resize) ? resize : 'scale',
    viewOnly: flag('view_only', false),
    shared: flag('shared', true),
    reconnect: flag('reconnect', false),
    reconnectDelay: number('reconnect_delay', 5000, 100, 600000),
    path: (get('path') ?? 'websockify').trim(),
    host: get('host')?.trim() || null,
    port: get('port')?.trim() || null,
    encrypt: get('encrypt') === null ? null : flag('encrypt', null),
    title: get('title'),
    logging: get('logging'),
  };
}

/**
 * The relay's WebSocket URL. By default the page's own origin (ws: for http:, wss: for https:), so the page works through
 * HAProxy and TLS offload unchanged; noVNC's host/port/encrypt parameters may name another relay.
 * @param {ReturnType<typeof readSettings>} settings
 * @param {{protocol: string, host: string}} location the page's location
 */
export function buildSocketUrl(settings, location) {
  const secure = settings.encrypt ?? location.protocol === 'https:';
  let authority = location.host;
  if (settings.host || settings.port) {
    const pageHost = location.host.replace(/:\d+$/, '');
    const host = settings.host ? bracketIPv6(settings.host) : pageHost;
    authority = settings.port ? `${host}:${settings.port}` : host;
  }
  let path = settings.path.replace(/^\/+/, '');
  for (const name of ['ticket', 'token']) {
    if (settings[name] && !new RegExp(`(^|[?&])${name}=`).test(path.split('?')[1] ?? '')) {
      path += `${path.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(settings[name])}`;
    }
  }
  return `${secure ? 'wss' : 'ws'}://${authority}/${path}`;
}

function bracketIPv6(host) {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * True when the page has a token or a signed ticket to present: in its parameters, inside the path parameter, or in a
 * token cookie. The relay prefers the ticket when both are given.
 */
export function hasToken(settings, cookie) {
  return Boolean(settings.token) || Boolean(settings.ticket)
    || /(^|[?&])(token|ticket)=[^&]/.test(settings.path.split('?')[1] ?? '')
    || /(^|;\s*)token=[^;]/.test(cookie ?? '');
}

/**
 * Sentences for the relay's limits, picked by the start of the close reason (several limits share 4429 and 4403; see
 * Sessions/CloseReasons.cs and Limits/ in the relay).
 */
const LIMIT_SENTENCES = Object.freeze([
  ['too many consoles open from your address', 'Too many consoles are open from your network address: close one and try again.'],
  ['too many consoles open for this VM', 'Too many consoles are open for this VM: close another one and try again.'],
  ['too many connection attempts', 'This address connected too often in a short time: wait a few seconds and try again.'],
  ['too many invalid console tokens', 'Too many invalid console links came from your address: wait a minute, then open the console again from the cloud portal.'],
  ['relay node is full', 'This relay node is full: try again shortly.'],
  ['console target address is not allowed', "The relay may not connect to this VM's console address: ask the cloud administrator."],
]);

function limitSentence(reason) {
  const found = LIMIT_SENTENCES.find(([prefix]) => reason.startsWith(prefix));
  return found ? found[1] : null;
}

/**
 * Words for the way a session ended, from the WebSocket close the relay sent.
 * @param {{code: number, reason: string}} close
 * @param {boolean} wasConnected whether the VNC session had been established
 * @returns {{text: string, kind: 'drain'|'ended'|'relay'|'network'|'protocol', retry: boolean}}
 */
export function describeClose(close, wasConnected) {
  const code = close?.code ?? 1006;
  const reason = (close?.reason ?? '').trim();
  const withReason = (sentence, kind, retry = false) => ({
    text: reason ? `${sentence} (relay says: "${reason}", code ${code})` : `${sentence} (code ${code})`,
    kind,
    retry,
  });
  switch (code) {
    case 1000:
      return withReason('The VM closed the console connection.', 'ended');
    case 1001:
    case 1012:
      return withReason('The relay node is restarting.', 'drain', true);
    case 1013:
      return withReason('The relay is busy.', 'drain', true);
    case 1003:
    case 1009:
      return withReason('The relay refused data sent by this page.', 'protocol');
    case 1011:
      return withReason("The relay could not reach the VM's console: the VM may be off, or its console moved.", 'relay');
    case 4400:
      return withReason('This console link is not valid: its token is malformed.', 'relay');
    case 4403:
      return withReason(limitSentence(reason) ?? 'The relay refused to open this console.', 'relay');
    case 4404:
      return withReason('This console does not exist or has expired: open it again from the cloud portal.', 'relay');
    case 4401:
      return withReason('This console link was altered and is not valid: open the console again from the cloud portal.', 'relay');
    case 4412:
      return withReason("This console link was made for another VM: the VM's console address now belongs to a different VM. Open the console again from the cloud portal.", 'relay');
    case 4409:
      return withReason('This console link was already used: open the console again from the cloud portal.', 'relay');
    case 4419:
      return withReason('This console link has expired: open the console again from the cloud portal.', 'relay');
    case 4421:
      return withReason('This console link was signed with a key the relay does not accept: open the console again from the cloud portal.', 'relay');
    case 4426:
      return withReason('This relay only opens consoles with a signed link: open the console from the cloud portal.', 'relay');
    case 4408:
      return withReason('The console was closed after being idle too long.', 'ended');
    case 4410:
      return withReason('This console was revoked: the VM was removed or its console moved. Open it again from the cloud portal.', 'relay');
    case 4429:
      return withReason(limitSentence(reason) ?? 'Too many consoles are open for this VM: close another one and try again.', 'relay');
    case 1006:
      return wasConnected
        ? { text: 'The connection to the console was lost.', kind: 'network', retry: true }
        : { text: 'Could not reach the console relay: check the network, or try again shortly.', kind: 'network', retry: false };
    default:
      return withReason('The console connection closed.', code >= 4000 ? 'relay' : 'ended');
  }
}

/**
 * Delay before reconnect attempt number `attempt` (0-based) after a node drained: quick at first so the user barely
 * notices a planned restart, doubling up to a ceiling, with jitter so the sessions of a drained node do not all return
 * in the same instant.
 */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(250 * 2 ** Math.max(attempt, 0), 10000);
  return Math.round(base * (0.75 + random() * 0.5));
}

/** How many reconnect attempts in a row before the page gives up and asks the user. */
export const MAX_RECONNECT_ATTEMPTS = 12;

/** Words for a failed VNC authentication (noVNC's securityfailure event). */
export function describeSecurityFailure(detail) {
  const reason = (detail?.reason ?? '').trim();
  const sentence = 'Authentication failed: the VNC password was not accepted.';
  return reason ? `${sentence} (server says: "${reason}")` : sentence;
}

/** The page URL with the password removed from query and fragment, so it stays out of history and bookmarks. */
export function withoutPassword(href) {
  return withoutParameters(href, (name) => name === 'password');
}

/** True for a signed console ticket (vt1. or vt2.), as the relay reads one; md5 tokens never look like this. */
export function isTicket(value) {
  return /^vt[12]\./.test(value ?? '');
}

/**
 * The page URL without its secrets: the password, the ticket, and a ticket passed where noVNC passes a token. The page
 * reads them once at load and keeps them in memory (a reconnect after a drain needs them); what stays in the browser's
 * history, bookmarks and session restore opens nothing. A plain token stays: it is the address's md5, no secret.
 */
export function withoutSecrets(href) {
  return withoutParameters(href, (name, value) => name === 'password' || name === 'ticket' || (name === 'token' && isTicket(value)));
}

function withoutParameters(href, secret) {
  const url = new URL(href);
  const drop = (params) => {
    for (const [name, value] of [...params]) {
      if (secret(name, value)) {
        params.delete(name, value);
      }
    }
  };
  drop(url.searchParams);
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ''));
  drop(fragment);
  const rest = fragment.toString();
  url.hash = rest ? `#${rest}` : '';
  return url.toString();
}
