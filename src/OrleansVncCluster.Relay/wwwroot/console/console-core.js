// The console page's decisions, kept free of the DOM and of noVNC so they can be tested on their own (web/test/):
// reading noVNC's page parameters, building the WebSocket URL, turning a relay close into words, reconnect backoff,
// remembered settings, paced typing, the on-screen keyboard's input, and the message catalogue.
// Close codes and reasons mirror src/OrleansVncCluster.Relay/Sessions/CloseReasons.cs.
import english from './i18n/en.js';

/** Close codes after which the page reconnects by itself: the node is going away, another one will take the session. */
export const DRAIN_CODES = Object.freeze([1001, 1012, 1013]);

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];
/** The screen fits: scale to the window, resize the VM's screen, or actual size. */
export const RESIZE_MODES = Object.freeze(['scale', 'remote', 'off']);

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
  const level = (name) => {
    const value = Number.parseInt(get(name) ?? '', 10);
    return Number.isInteger(value) && value >= 0 && value <= 9 ? value : null;
  };
  const resize = (get('resize') ?? '').trim().toLowerCase();
  return {
    token: get('token')?.trim() || null,
    ticket: get('ticket')?.trim() || null,
    password: get('password'),
    passwordInQuery: query.has('password'),
    autoconnect: flag('autoconnect', true),
    resize: RESIZE_MODES.includes(resize) ? resize : 'scale',
    // Whether the link chose these, which then win over what this browser remembers (see withStored).
    resizeGiven: RESIZE_MODES.includes(resize),
    quality: level('quality'),
    compression: level('compression'),
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
 * Sessions/CloseReasons.cs and Limits/ in the relay). The reasons are the relay's, in English; the sentences are keys.
 */
const LIMIT_SENTENCES = Object.freeze([
  ['too many consoles open from your address', 'limit.fromAddress'],
  ['too many consoles open for this VM', 'limit.forVm'],
  ['too many connection attempts', 'limit.attempts'],
  ['too many invalid console tokens', 'limit.invalidTokens'],
  ['relay node is full', 'limit.nodeFull'],
  ['console target address is not allowed', 'limit.targetNotAllowed'],
]);

function limitSentence(reason) {
  const found = LIMIT_SENTENCES.find(([prefix]) => reason.startsWith(prefix));
  return found ? found[1] : null;
}

/** The sentence (a catalogue key) and kind for each close code the relay sends. */
const CLOSE_SENTENCES = Object.freeze({
  1000: ['close.vmClosed', 'ended'],
  1001: ['close.restarting', 'drain', true],
  1012: ['close.restarting', 'drain', true],
  1013: ['close.busy', 'drain', true],
  1003: ['close.refusedData', 'protocol'],
  1009: ['close.refusedData', 'protocol'],
  1011: ['close.vmUnreachable', 'relay'],
  4400: ['close.malformed', 'relay'],
  4403: ['close.refused', 'relay'],
  4404: ['close.unknown', 'relay'],
  4401: ['close.altered', 'relay'],
  4412: ['close.otherVm', 'relay'],
  4409: ['close.used', 'relay'],
  4419: ['close.expired', 'relay'],
  4421: ['close.unknownKey', 'relay'],
  4426: ['close.signedOnly', 'relay'],
  4408: ['close.idle', 'ended'],
  4410: ['close.revoked', 'relay'],
  4429: ['close.tooMany', 'relay'],
});

/**
 * Words for the way a session ended, from the WebSocket close the relay sent.
 * @param {{code: number, reason: string}} close
 * @param {boolean} wasConnected whether the VNC session had been established
 * @param {Translate} t the page's language (English when not given)
 * @returns {{text: string, kind: 'drain'|'ended'|'relay'|'network'|'protocol', retry: boolean}}
 */
export function describeClose(close, wasConnected, t = inEnglish) {
  const code = close?.code ?? 1006;
  const reason = (close?.reason ?? '').trim();
  if (code === 1006) {
    return wasConnected
      ? { text: t('close.lost'), kind: 'network', retry: true }
      : { text: t('close.relayUnreachable'), kind: 'network', retry: false };
  }
  const [key, kind, retry = false] = CLOSE_SENTENCES[code] ?? ['close.other', code >= 4000 ? 'relay' : 'ended'];
  const limited = code === 4403 || code === 4429 ? limitSentence(reason) : null;
  const sentence = t(limited ?? key);
  const text = reason ? t('close.withReason', { sentence, reason, code }) : t('close.withCode', { sentence, code });
  return { text, kind, retry };
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
export function describeSecurityFailure(detail, t = inEnglish) {
  const reason = (detail?.reason ?? '').trim();
  const sentence = t('auth.failed');
  return reason ? t('auth.failedWithReason', { sentence, reason }) : sentence;
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

// ---- Languages ----------------------------------------------------------------------------------------------------

/**
 * @typedef {((key: string, params?: Record<string, unknown>) => string) & {language: string,
 *   plural: (key: string, count: number, params?: Record<string, unknown>) => string}} Translate
 */

/**
 * A translation function over a catalogue of `key: 'text with {placeholders}'`. A key the catalogue lacks falls back to
 * English, and a key English lacks shows as itself (a bug the catalogue test catches, never a blank status bar).
 * Numbers in placeholders are written the language's way (1.5 s, 1,5 s).
 * @param {Record<string, string>} catalogue
 * @param {string} language a BCP 47 tag, for numbers and plural rules
 * @returns {Translate}
 */
export function createTranslator(catalogue, language = 'en') {
  const numbers = new Intl.NumberFormat(language, { maximumFractionDigits: 1 });
  const plurals = new Intl.PluralRules(language);
  const t = (key, params = {}) => {
    const text = catalogue[key] ?? english[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => {
      if (!(name in params)) {
        return whole;
      }
      const value = params[name];
      return typeof value === 'number' && name !== 'code' ? numbers.format(value) : String(value);
    });
  };
  t.language = language;
  // Keys with plural forms end in CLDR's categories (.one, .other ...); .other is the one every language has.
  t.plural = (key, count, params = {}) => {
    const category = plurals.select(count);
    const found = [`${key}.${category}`, `${key}.other`].find((name) => name in catalogue || name in english);
    return t(found ?? `${key}.other`, { ...params, count });
  };
  return t;
}

const inEnglish = createTranslator(english, 'en');

/**
 * The catalogues worth asking for, best first, from the browser's languages (navigator.languages): their primary
 * subtags ("es" for "es-AR"), up to the first English one, which needs no file. Only plain subtags make a file name.
 * @param {readonly string[]} languages
 */
export function languageCandidates(languages) {
  const candidates = [];
  for (const tag of languages ?? []) {
    const primary = String(tag).trim().toLowerCase().split(/[-_]/)[0];
    if (primary === 'en') {
      break;
    }
    if (/^[a-z]{2,3}$/.test(primary) && !candidates.includes(primary)) {
      candidates.push(primary);
    }
  }
  return candidates;
}

// ---- Settings this browser remembers ------------------------------------------------------------------------------

/** The localStorage key for the remembered settings (per origin, so per console cluster). */
export const STORED_SETTINGS_KEY = 'vnc-console.settings';

/**
 * The picture choices: noVNC's JPEG quality (0-9, higher is better) and compression level (0-9, higher is less data)
 * sent to the VNC server; `balanced` is noVNC's own default (6, 2).
 */
export const PICTURE_PRESETS = Object.freeze({
  best: Object.freeze({ quality: 9, compression: 0 }),
  balanced: Object.freeze({ quality: 6, compression: 2 }),
  light: Object.freeze({ quality: 3, compression: 6 }),
  lightest: Object.freeze({ quality: 0, compression: 9 }),
});

/** The preset that has these levels, or 'custom' (a link's own quality= and compression=). */
export function pictureChoice(quality, compression) {
  const found = Object.entries(PICTURE_PRESETS).find(([, levels]) => levels.quality === quality && levels.compression === compression);
  return found ? found[0] : 'custom';
}

/**
 * What this browser remembers, read defensively: storage is the user's to edit, and another version of the page may
 * have written it. Anything unknown is dropped.
 * @param {string|null} json
 * @returns {{resize?: string, quality?: number, compression?: number, clipboardOpen?: boolean}}
 */
export function parseStoredSettings(json) {
  let value;
  try {
    value = JSON.parse(json ?? 'null');
  } catch {
    return {};
  }
  if (!value || typeof value !== 'object') {
    return {};
  }
  const stored = {};
  if (RESIZE_MODES.includes(value.resize)) {
    stored.resize = value.resize;
  }
  for (const name of ['quality', 'compression']) {
    if (Number.isInteger(value[name]) && value[name] >= 0 && value[name] <= 9) {
      stored[name] = value[name];
    }
  }
  if (typeof value.clipboardOpen === 'boolean') {
    stored.clipboardOpen = value.clipboardOpen;
  }
  return stored;
}

/**
 * The page's settings with what this browser remembers: a setting the link gives wins (a portal may link with
 * resize=remote), then the remembered one, then noVNC's default.
 */
export function withStored(settings, stored) {
  const balanced = PICTURE_PRESETS.balanced;
  return {
    ...settings,
    resize: settings.resizeGiven ? settings.resize : stored.resize ?? settings.resize,
    quality: settings.quality ?? stored.quality ?? balanced.quality,
    compression: settings.compression ?? stored.compression ?? balanced.compression,
    clipboardOpen: stored.clipboardOpen ?? false,
  };
}

// ---- Typing text as key presses -----------------------------------------------------------------------------------

/** Milliseconds between typed keys: a BIOS or a busy guest's input queue drops keys that arrive in one burst. */
export const TYPE_INTERVAL_MS = 10;

const XK_RETURN = 0xff0d;
const XK_TAB = 0xff09;

/**
 * The key presses that type `text`: one per character, Return for a line break (CR LF is one), Tab for a tab.
 * @param {string} text
 * @param {(codePoint: number) => number} lookup noVNC's keysyms.lookup (Unicode to X11 keysym)
 * @returns {{keysym: number, code: string|null}[]}
 */
export function keystrokesFor(text, lookup) {
  const keys = [];
  const normalised = text.replace(/\r\n?/g, '\n');
  for (const character of normalised) {
    if (character === '\n') {
      keys.push({ keysym: XK_RETURN, code: 'Enter' });
    } else if (character === '\t') {
      keys.push({ keysym: XK_TAB, code: 'Tab' });
    } else {
      keys.push({ keysym: lookup(character.codePointAt(0)), code: null });
    }
  }
  return keys;
}

/**
 * Presses `keys` one at a time, `interval` ms apart, the first at once. `press` returning false stops the typing (the
 * session is gone). Timers are injected so tests run on a fake clock.
 * @returns {{cancel: () => void, done: Promise<'typed'|'cancelled'|'stopped'>}}
 */
export function typePaced(keys, press, { interval = TYPE_INTERVAL_MS, setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  let next = 0;
  let timer = null;
  let settle;
  const done = new Promise((resolve) => {
    settle = resolve;
  });
  const step = () => {
    timer = null;
    if (next >= keys.length) {
      settle('typed');
      return;
    }
    if (press(keys[next]) === false) {
      settle('stopped');
      return;
    }
    next += 1;
    if (next >= keys.length) {
      settle('typed');
      return;
    }
    timer = setTimer(step, interval);
  };
  step();
  return {
    cancel() {
      if (timer !== null) {
        clearTimer(timer);
        timer = null;
      }
      settle('cancelled');
    },
    done,
  };
}

// ---- The on-screen keyboard ---------------------------------------------------------------------------------------

/**
 * What the hidden field behind the on-screen keyboard holds when it is reset: some text, so a Backspace on the phone's
 * keyboard has something to delete (and so an event to report). noVNC's vnc.html does the same.
 */
export const KEYBOARD_FILL = '_'.repeat(100);

/**
 * The keys to send for a change of the on-screen keyboard's field (its `input` event): phones' keyboards do not send
 * reliable key events, so the field's text is compared instead, as noVNC's vnc.html does. A correction that rewrites
 * earlier text becomes Backspaces and the new text.
 * @param {string} before the field's value after the previous change
 * @param {string} after its value now
 * @returns {{backspaces: number, text: string}}
 */
export function keyboardInputChange(before, after) {
  // By characters, not UTF-16 units: an emoji is one Backspace.
  const old = [...before];
  const now = [...after];
  let common = 0;
  const limit = Math.min(old.length, now.length);
  while (common < limit && old[common] === now[common]) {
    common += 1;
  }
  return { backspaces: old.length - common, text: now.slice(common).join('') };
}
