// The playback page: noVNC, view only, on the relay's player (Recording/RecordingPlayer.cs). The player is a tiny RFB
// server that streams the recording from the last keyframe before the asked moment, so every seek, pause and change of
// speed is a new connection: the page never holds more than one connection's screen, however long the recording.
// State for tests is <body data-state="loading|playing|paused|ended|failed" data-at="MS" data-close-code>.
import RFB from '/novnc/core/rfb.js';
import {
  describePlaybackClose, formatTime, markerLayout, playbackSocketUrl, positionNow, readTicket, SPEEDS,
} from '/console/playback-core.js';
import { chooseLanguage, t, translatePage } from '/console/i18n.js';

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'), about: $('about'), cut: $('cut'), play: $('play-button'), speed: $('speed-select'),
  time: $('time'), seek: $('seek'), markers: $('markers'), screen: $('screen'),
};

const ticket = readTicket(location.search, location.hash);
// The ticket leaves the address bar and the history as soon as it is read, as the console's does.
history.replaceState(history.state, '', location.pathname);
await chooseLanguage(navigator.languages ?? [navigator.language]);
translatePage();

let info = null;
let player = null;
// ended: the recording was played to its end; the page then shows its last screen from a paused player at the end.
const play = { atMs: 0, speed: 1, paused: true, startedAt: null, ended: false };

function show(state, text, closeCode = '') {
  document.body.dataset.state = state;
  document.body.dataset.closeCode = String(closeCode);
  ui.status.textContent = text;
  ui.play.textContent = t(state === 'playing' ? 'playback.pause' : 'playback.play');
}

/** Starts a connection at play.atMs with play's speed and pause, after closing the one before. */
function connect() {
  stopPlayer();
  const holder = document.createElement('div');
  holder.className = 'player';
  ui.screen.append(holder);
  const socket = new WebSocket(playbackSocketUrl(location, ticket, play));
  const current = { socket, holder, close: null, rfb: null };
  player = current;
  socket.addEventListener('close', (event) => {
    current.close = { code: event.code, reason: event.reason };
  });
  const rfb = new RFB(holder, socket, { shared: true });
  current.rfb = rfb;
  rfb.viewOnly = true;
  rfb.scaleViewport = true;
  rfb.background = 'transparent';
  rfb.addEventListener('connect', () => {
    if (player !== current) {
      return;
    }
    play.startedAt = performance.now();
    document.body.dataset.at = String(play.atMs);
    if (play.ended) {
      show('ended', t('playback.ended'));
      return;
    }
    show(play.paused ? 'paused' : 'playing', t(play.paused ? 'playback.pausedAt' : 'playback.playing', { time: formatTime(play.atMs) }));
  });
  rfb.addEventListener('disconnect', () => {
    if (player !== current) {
      return;
    }
    const close = current.close ?? { code: 1006, reason: '' };
    const outcome = describePlaybackClose(close);
    const atEnd = outcome.key === 'playback.ended';
    play.atMs = atEnd ? info.durationMs : positionNow(play, performance.now(), info.durationMs);
    play.paused = true;
    play.startedAt = null;
    show(outcome.kind, t(outcome.key, { reason: close.reason }), close.code);
    tick();
    if (atEnd) {
      // noVNC takes its screen away when the connection ends: show the last one again, paused at the end.
      play.ended = true;
      connect();
    }
  });
}

function stopPlayer() {
  const previous = player;
  player = null;
  if (previous) {
    previous.rfb?.disconnect();
    // Removed at once, not when noVNC has finished closing: only one screen is ever on the page.
    previous.holder.remove();
  }
}

function seekTo(ms, { paused = play.paused, speed = play.speed } = {}) {
  play.atMs = Math.min(Math.max(0, ms), info.durationMs);
  play.paused = paused;
  play.speed = speed;
  play.startedAt = null;
  play.ended = false;
  tick();
  connect();
}

function tick() {
  if (!info) {
    return;
  }
  const now = positionNow(play, performance.now(), info.durationMs);
  if (document.activeElement !== ui.seek) {
    ui.seek.value = String(now);
  }
  ui.time.textContent = `${formatTime(now)} / ${formatTime(info.durationMs)}`;
}

function drawMarkers() {
  ui.markers.replaceChildren(...markerLayout(info).map((marker) => {
    const mark = document.createElement('span');
    mark.className = `marker ${marker.kind}`;
    mark.style.left = `${marker.left}%`;
    if (marker.kind === 'input') {
      mark.style.width = `${marker.width}%`;
      mark.title = t.plural('playback.inputs', marker.count);
    } else {
      mark.title = t(marker.kind === 'start' ? 'playback.start' : 'playback.end');
    }
    return mark;
  }));
}

async function load() {
  if (!ticket) {
    show('failed', t('playback.noTicket'));
    return;
  }
  const response = await fetch(`/console/playback/info?ticket=${encodeURIComponent(ticket)}`, { cache: 'no-store' });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    show('failed', t('playback.cannotOpen', { reason: problem.detail ?? response.statusText }), response.status);
    return;
  }
  info = await response.json();
  ui.about.textContent = t('playback.about', {
    vm: info.vm ?? '?', user: info.user ?? '?', started: info.startedAt ? new Date(info.startedAt).toLocaleString(t.language) : '?',
  });
  ui.cut.hidden = info.complete;
  ui.seek.max = String(info.durationMs);
  ui.speed.replaceChildren(...SPEEDS.map((speed) => new Option(`${speed}×`, String(speed))));
  for (const control of [ui.play, ui.speed, ui.seek]) {
    control.disabled = false;
  }
  drawMarkers();
  ui.play.addEventListener('click', () => {
    const atEnd = play.atMs >= info.durationMs && document.body.dataset.state === 'ended';
    seekTo(atEnd ? 0 : positionNow(play, performance.now(), info.durationMs), { paused: document.body.dataset.state === 'playing' });
  });
  ui.speed.addEventListener('change', () => {
    seekTo(positionNow(play, performance.now(), info.durationMs), { speed: Number(ui.speed.value) });
  });
  ui.seek.addEventListener('change', () => {
    seekTo(Number(ui.seek.value));
    ui.seek.blur();
  });
  setInterval(tick, 250);
  seekTo(0, { paused: true });
}

await load();
