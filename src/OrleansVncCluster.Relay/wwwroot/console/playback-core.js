// The playback page's pure logic (no DOM, no noVNC), so node's test runner can check it: reading the ticket, the
// player's socket URL, times as people read them, and where the seek bar's markers go.

/** Speeds the player offers, as the relay accepts them (Recording/PlaybackRequest.cs). */
export const SPEEDS = Object.freeze([1, 2, 4, 8, 16]);

/** Narrowest input marker, in percent of the bar, so a single key press stays visible on an hour-long bar. */
export const MIN_MARKER_PERCENT = 0.3;

/**
 * The playback ticket from the fragment (where the admin API's URL puts it, out of access logs) or the query.
 * @param {string} search location.search
 * @param {string} hash location.hash
 * @returns {string|null}
 */
export function readTicket(search, hash) {
  const fragment = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const query = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const ticket = (fragment.get('ticket') ?? query.get('ticket') ?? '').trim();
  return ticket.length > 0 ? ticket : null;
}

/**
 * The player's WebSocket URL on the page's own origin: a new one for every seek, pause and change of speed.
 * @param {{protocol: string, host: string}} location
 * @param {string} ticket
 * @param {{atMs: number, speed: number, paused: boolean}} play
 */
export function playbackSocketUrl(location, ticket, { atMs, speed, paused }) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const at = Math.max(0, Math.floor(atMs));
  return `${scheme}://${location.host}/websockify/playback?ticket=${encodeURIComponent(ticket)}&at=${at}&speed=${speed}&paused=${paused ? 1 : 0}`;
}

/**
 * A time into the recording as people read it: m:ss below an hour, h:mm:ss from an hour on.
 * @param {number} ms
 */
export function formatTime(ms) {
  const total = Math.max(0, Math.floor((Number.isFinite(ms) ? ms : 0) / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/**
 * Where the markers go on a seek bar, in percent of its width: the session's start and end, and one span per bucket of
 * input (from the info call: {durationMs, startMs, endMs, bucketMs, inputs: [{atMs, count}]}).
 * @returns {{kind: 'start'|'end'|'input', left: number, width: number, count: number}[]}
 */
export function markerLayout(info) {
  const duration = Math.max(1, info.durationMs ?? 0);
  const percent = (ms) => Math.min(100, Math.max(0, (ms / duration) * 100));
  const markers = [{ kind: 'start', left: percent(info.startMs ?? 0), width: 0, count: 0 }];
  for (const bucket of info.inputs ?? []) {
    const left = percent(bucket.atMs);
    const width = Math.min(100 - left, Math.max(MIN_MARKER_PERCENT, percent(info.bucketMs ?? 0)));
    markers.push({ kind: 'input', left, width, count: bucket.count });
  }
  markers.push({ kind: 'end', left: percent(info.endMs ?? duration), width: 0, count: 0 });
  return markers;
}

/**
 * Where the recording is now: the moment the connection started from, plus the time since it started at its speed,
 * never past the end; a paused player stays where it was asked.
 */
export function positionNow({ atMs, speed, paused, startedAt }, now, durationMs) {
  if (paused || startedAt === null) {
    return Math.min(atMs, durationMs);
  }
  return Math.min(durationMs, atMs + Math.max(0, now - startedAt) * speed);
}

/**
 * The sentence for a player's close (code and reason from the relay), as a catalogue key and its values.
 * @param {{code: number, reason: string}} close
 */
export function describePlaybackClose(close) {
  switch (close.code) {
    case 1000:
      return close.reason === 'end of recording' ? { key: 'playback.ended', kind: 'ended' } : { key: 'playback.stopped', kind: 'ended' };
    case 4401:
      return { key: 'playback.badTicket', kind: 'failed' };
    case 4404:
      return { key: 'playback.notFound', kind: 'failed' };
    case 4419:
      return { key: 'playback.expired', kind: 'failed' };
    case 4415:
      return { key: 'playback.pixelFormat', kind: 'failed' };
    case 1013:
      return { key: 'playback.busy', kind: 'failed' };
    default:
      return { key: 'playback.lost', kind: 'failed' };
  }
}
