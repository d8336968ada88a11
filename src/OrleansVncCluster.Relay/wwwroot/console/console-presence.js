// The console page's way back after its node drained or died, and its view of who else is on the VM (issue 13, items 7
// and 3). Self-contained, DOM-free except for the banner it is given, so that node --test covers its decisions.
//
// The relay sets a resume credential on the WebSocket's 101 as an HttpOnly cookie named after this page's random id
// (Admission/ResumeCookie.cs). The page never sees it: it only adds ?resume=ID to its WebSocket URL (the relay then uses
// the cookie when it has one, so a reconnect needs neither the ticket nor a password) and calls the presence endpoint
// (Sessions/ResumeGrants.cs), which renews the cookie while the session lives and says its role and who watches.

// Its sentences are in the page's catalogues (i18n/en.js, es.js: presence.viewOnly, presence.watching.*); the page
// passes its translator `t` (i18n.js) in.

const PAGE_ID = /^[A-Za-z0-9_-]{16,32}$/;

/** A random page id (22 base64url characters, 128 bits): names this page's resume cookie, and nothing else. */
export function newPageId(random = (bytes) => crypto.getRandomValues(bytes)) {
  const bytes = random(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The WebSocket URL with the page's resume id added (a URL that already names one is left alone). */
export function withResume(socketUrl, pageId) {
  if (!PAGE_ID.test(pageId ?? '')) {
    return socketUrl;
  }
  const url = new URL(socketUrl);
  if (!url.searchParams.has('resume')) {
    url.searchParams.append('resume', pageId);
  }
  return url.toString();
}

/** The presence call's URL for a WebSocket URL: same origin and relay path, http(s), only the resume id as query. */
export function presenceUrl(socketUrl, pageId) {
  return relayCallUrl(socketUrl, pageId, 'presence');
}

/**
 * The URL of one of the page's calls below the relay path (presence, share) for a WebSocket URL: same origin, http(s),
 * only the resume id as query, so the page's resume cookie (scoped to the relay path) goes with it and the ticket never.
 */
export function relayCallUrl(socketUrl, pageId, call) {
  const url = new URL(socketUrl);
  const scheme = url.protocol === 'wss:' ? 'https:' : 'http:';
  const path = url.pathname.replace(/\/+$/, '');
  return `${scheme}//${url.host}${path}/${call}?resume=${encodeURIComponent(pageId)}`;
}

/**
 * What the page shows for a presence answer: the "view only" banner for a view session, and how many people watch.
 * @param {{role?: string, viewers?: number}|null} answer
 * @param {(key: string) => string & {plural: (key: string, count: number) => string}} t the page's translator (i18n.js)
 * @returns {{viewOnly: boolean, text: string}}
 */
export function describePresence(answer, t) {
  const viewOnly = answer?.role === 'view';
  const viewers = Number.isInteger(answer?.viewers) && answer.viewers > 0 ? answer.viewers : 0;
  const parts = [];
  if (viewOnly) {
    parts.push(t('presence.viewOnly'));
  }
  if (viewers > 0) {
    parts.push(t.plural('presence.watching', viewers));
  }
  return { viewOnly, text: parts.join(' · ') };
}

/** Seconds until the next presence call: the relay's advice, kept between 5 s and 5 min; 30 s without one. */
export function nextPresenceDelay(answer) {
  const seconds = Number.isFinite(answer?.refreshSeconds) ? answer.refreshSeconds : 30;
  return Math.min(Math.max(seconds, 5), 300) * 1000;
}

/**
 * Calls the presence endpoint now and then again as the relay advises, until stopped; each answer (or null when the
 * call failed) goes to onAnswer. Returns the stop function.
 */
export function startPresence(url, onAnswer, { fetchFn = fetch, setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    let answer = null;
    try {
      const response = await fetchFn(url, { credentials: 'same-origin', cache: 'no-store' });
      answer = response.ok ? await response.json() : null;
    } catch {
      answer = null;
    }
    if (stopped) {
      return;
    }
    onAnswer(answer);
    timer = setTimer(tick, nextPresenceDelay(answer));
  };
  tick();
  return () => {
    stopped = true;
    clearTimer(timer);
  };
}

/** Shows an answer in the page's presence banner (hidden when there is nothing to say). */
export function showPresence(banner, answer, t) {
  const { viewOnly, text } = describePresence(answer, t);
  banner.textContent = text;
  banner.hidden = text.length === 0;
  banner.dataset.role = answer?.role ?? '';
  banner.dataset.viewers = String(answer?.viewers ?? '');
  banner.classList.toggle('view-only', viewOnly);
}
