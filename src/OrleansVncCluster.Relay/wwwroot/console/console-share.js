// The console page's "share view-only link" button (issue 14). Self-contained and DOM-free, so that node --test covers
// its decisions; console.js wires it to the button and the panel.
//
// The page holds no admin credential: the share call (ConsolePage/ShareLinks.cs) is authorised by the page's resume
// cookie alone, like the presence call, and answers a single-use view ticket's link for the same VM. The button shows
// only while the presence answer says the session may share (a live control session whose ticket allowed it).
// Relative, so that node --test loads it too (the page resolves it to /console/console-presence.js).
import { relayCallUrl } from './console-presence.js';

/** The share call's URL for a WebSocket URL (see relayCallUrl). */
export function shareUrl(socketUrl, pageId) {
  return relayCallUrl(socketUrl, pageId, 'share');
}

/** True when a presence answer lets the page show its share button. */
export function mayShare(answer) {
  return answer?.mayShare === true && answer?.role === 'control';
}

/**
 * Asks the relay for a view-only link. Resolves to { link, expires } with the link made absolute against `base` (the
 * relay answers a path when it knows no public URL), or to { error } with the relay's reason (or the failure's).
 */
export async function requestShare(url, base, { fetchFn = fetch } = {}) {
  let response;
  try {
    response = await fetchFn(url, { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
  } catch (error) {
    return { error: error?.message ?? String(error) };
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok || typeof answer?.url !== 'string') {
    return { error: typeof answer?.error === 'string' ? answer.error : `HTTP ${response.status}` };
  }
  return { link: new URL(answer.url, base).toString(), expires: answer.expires };
}

/** Whole minutes until `expires` (an ISO instant), at least 1: what the panel's note says. */
export function minutesLeft(expires, now = Date.now()) {
  const at = Date.parse(expires ?? '');
  return Number.isFinite(at) ? Math.max(1, Math.round((at - now) / 60000)) : 1;
}
