// The browser console: noVNC's RFB client on the page's own origin, with the controls people expect from a VM console.
// State for people is the status bar; state for tests and embedding pages is <body data-state data-error data-close-code>.
import RFB from '/novnc/core/rfb.js';
import KeyTable from '/novnc/core/input/keysym.js';
import keysyms from '/novnc/core/input/keysymdef.js';
import { initLogging } from '/novnc/core/util/logging.js';
import {
  backoffDelay, buildSocketUrl, describeClose, describeSecurityFailure, hasToken, MAX_RECONNECT_ATTEMPTS, readSettings,
  withoutSecrets,
} from '/console/console-core.js';

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'),
  screen: $('screen'),
  credentials: $('credentials-form'),
  username: $('username-input'),
  usernameLabel: $('username-label'),
  password: $('password-input'),
  connect: $('connect-button'),
  disconnect: $('disconnect-button'),
  ctrlAltDel: $('ctrl-alt-del-button'),
  keyTab: $('tab-button'),
  keyEsc: $('esc-button'),
  keyCombo: $('keys-select'),
  toggles: [...document.querySelectorAll('[data-modifier]')],
  resize: $('resize-select'),
  clipboardToggle: $('clipboard-button'),
  clipboardPanel: $('clipboard-panel'),
  clipboardText: $('clipboard-text'),
  clipboardSend: $('clipboard-send-button'),
  clipboardType: $('clipboard-type-button'),
  fullscreen: $('fullscreen-button'),
};

const settings = readSettings(location.search, location.hash);
// Kept in memory only: the URL is scrubbed below, and a reconnect after a drain must not ask again.
let password = settings.password;
let username = null;
// The password and the ticket leave the address bar, the history and session restore as soon as they are read: a
// ticket left there could be reopened by whoever uses the browser next (issue 12, item 11).
const scrubbed = withoutSecrets(location.href);
if (scrubbed !== location.href) {
  history.replaceState(history.state, '', scrubbed);
}
if (settings.logging) {
  initLogging(settings.logging);
}
if (settings.title) {
  document.title = settings.title;
}

let rfb = null;
let session = null;
let reconnectTimer = null;
let reconnectAttempts = 0;
let sessionsStarted = 0;

function show(state, text, extra = {}) {
  document.body.dataset.state = state;
  document.body.dataset.error = extra.error ?? '';
  document.body.dataset.closeCode = extra.closeCode === undefined ? '' : String(extra.closeCode);
  ui.status.textContent = text;
  const live = state === 'connected';
  for (const control of [ui.ctrlAltDel, ui.keyTab, ui.keyEsc, ui.keyCombo, ui.clipboardSend, ui.clipboardType, ...ui.toggles]) {
    control.disabled = !live || settings.viewOnly;
  }
  ui.disconnect.hidden = !(live || state === 'connecting' || state === 'credentials' || state === 'reconnecting');
  ui.connect.hidden = !(state === 'disconnected' || state === 'failed' || state === 'idle');
  if (state !== 'credentials' && !extra.keepCredentials) {
    ui.credentials.hidden = true;
  }
}

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (rfb) {
    return;
  }

  const url = buildSocketUrl(settings, location);
  // Our own WebSocket, handed to noVNC: noVNC reports a close only as "clean or not", but the relay's close code and
  // reason are what tell the user why. Registered before noVNC's handler, so the close is known when noVNC reports it.
  let socket;
  try {
    socket = new WebSocket(url);
  } catch (error) {
    show('failed', `Cannot open the console connection: ${error.message}`, { error: 'config' });
    return;
  }
  const current = { socket, close: null, disconnected: false, connected: false, securityFailure: null, finished: false };
  session = current;
  socket.addEventListener('close', (event) => {
    current.close = { code: event.code, reason: event.reason };
    settle(current);
  });

  const credentials = {};
  if (password !== null) {
    credentials.password = password;
  }
  if (username !== null) {
    credentials.username = username;
  }
  rfb = new RFB(ui.screen, socket, { shared: settings.shared, credentials });
  applyDisplaySettings();
  rfb.addEventListener('connect', () => {
    current.connected = true;
    reconnectAttempts = 0;
    sessionsStarted += 1;
    document.body.dataset.sessions = String(sessionsStarted);
    show('connected', current.desktopName ? `Connected to ${current.desktopName}` : 'Connected');
    rfb.focus();
  });
  rfb.addEventListener('disconnect', () => {
    current.disconnected = true;
    settle(current);
    // When noVNC ends the session itself (an error on its side) the socket closes after this event; do not wait forever.
    setTimeout(() => finish(current), 1500);
  });
  rfb.addEventListener('credentialsrequired', (event) => askCredentials(event.detail.types));
  rfb.addEventListener('securityfailure', (event) => {
    current.securityFailure = event.detail;
  });
  rfb.addEventListener('desktopname', (event) => {
    current.desktopName = event.detail.name;
    if (!settings.title) {
      document.title = event.detail.name;
    }
    if (current.connected) {
      ui.status.textContent = `Connected to ${event.detail.name}`;
    }
  });
  rfb.addEventListener('clipboard', (event) => {
    ui.clipboardText.value = event.detail.text;
  });
  show(reconnectAttempts > 0 ? 'reconnecting' : 'connecting', reconnectAttempts > 0 ? 'Reconnecting…' : 'Connecting…');
}

function settle(current) {
  if (current.disconnected && current.close) {
    finish(current);
  }
}

function finish(current) {
  if (current.finished || current !== session) {
    return;
  }
  current.finished = true;
  rfb = null;
  session = null;
  releaseModifiers(false);

  if (current.securityFailure) {
    password = null;
    show('failed', describeSecurityFailure(current.securityFailure), { error: 'auth', keepCredentials: true });
    askCredentials(['password'], true);
    return;
  }
  if (current.userClosed) {
    show('disconnected', 'Disconnected.');
    return;
  }

  const outcome = describeClose(current.close, current.connected);
  const extra = { error: outcome.kind === 'ended' ? '' : outcome.kind, closeCode: current.close?.code ?? 1006 };
  // A drain always comes back; a lost connection comes back when it had worked, or when we are already retrying
  // (the node we were sent to is restarting); noVNC's reconnect=true extends that to every unexpected end.
  const retrying = reconnectAttempts > 0 && outcome.kind === 'network';
  if (outcome.retry || retrying) {
    scheduleReconnect(outcome.text, extra, backoffDelay(reconnectAttempts));
  } else if (settings.reconnect && outcome.kind !== 'ended') {
    scheduleReconnect(outcome.text, extra, settings.reconnectDelay);
  } else {
    show(outcome.kind === 'ended' ? 'disconnected' : 'failed', outcome.text, extra);
  }
}

function scheduleReconnect(text, extra, delay) {
  if (reconnectAttempts >= MAX_RECONNECT_ATTEMPTS) {
    reconnectAttempts = 0;
    show('failed', `${text} Gave up reconnecting after ${MAX_RECONNECT_ATTEMPTS} attempts.`, extra);
    return;
  }
  reconnectAttempts += 1;
  show('reconnecting', `${text} Reconnecting in ${(delay / 1000).toFixed(1)} s…`, extra);
  reconnectTimer = setTimeout(connect, delay);
}

function askCredentials(types, afterFailure = false) {
  const needsUser = types.includes('username');
  ui.username.hidden = !needsUser;
  ui.usernameLabel.hidden = !needsUser;
  ui.credentials.hidden = false;
  if (!afterFailure) {
    show('credentials', needsUser ? 'The VNC server asks for a user name and password.' : 'The VNC server asks for a password.',
      { keepCredentials: true });
  }
  ui.password.value = '';
  (needsUser ? ui.username : ui.password).focus();
}

ui.credentials.addEventListener('submit', (event) => {
  event.preventDefault();
  password = ui.password.value;
  username = ui.username.hidden ? null : ui.username.value;
  ui.password.value = '';
  ui.credentials.hidden = true;
  if (rfb) {
    const credentials = { password };
    if (username !== null) {
      credentials.username = username;
    }
    rfb.sendCredentials(credentials);
    show('connecting', 'Authenticating…');
  } else {
    reconnectAttempts = 0;
    connect();
  }
});

ui.connect.addEventListener('click', () => {
  reconnectAttempts = 0;
  connect();
});

ui.disconnect.addEventListener('click', () => {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  reconnectAttempts = 0;
  if (session) {
    session.userClosed = true;
    rfb.disconnect();
  } else {
    show('disconnected', 'Disconnected.');
  }
});

function applyDisplaySettings() {
  if (!rfb) {
    return;
  }
  rfb.viewOnly = settings.viewOnly;
  rfb.scaleViewport = settings.resize === 'scale';
  rfb.resizeSession = settings.resize === 'remote';
  rfb.clipViewport = false;
}

ui.resize.value = settings.resize;
ui.resize.addEventListener('change', () => {
  settings.resize = ui.resize.value;
  applyDisplaySettings();
  rfb?.focus();
});

function press(keysym, code) {
  rfb?.sendKey(keysym, code);
  rfb?.focus();
}

ui.ctrlAltDel.addEventListener('click', () => {
  rfb?.sendCtrlAltDel();
  rfb?.focus();
});
ui.keyTab.addEventListener('click', () => press(KeyTable.XK_Tab, 'Tab'));
ui.keyEsc.addEventListener('click', () => press(KeyTable.XK_Escape, 'Escape'));

const MODIFIERS = {
  ctrl: [KeyTable.XK_Control_L, 'ControlLeft'],
  alt: [KeyTable.XK_Alt_L, 'AltLeft'],
  super: [KeyTable.XK_Super_L, 'MetaLeft'],
};

for (const toggle of ui.toggles) {
  toggle.addEventListener('click', () => {
    const [keysym, code] = MODIFIERS[toggle.dataset.modifier];
    const down = toggle.getAttribute('aria-pressed') !== 'true';
    rfb?.sendKey(keysym, code, down);
    toggle.setAttribute('aria-pressed', String(down));
    rfb?.focus();
  });
}

function releaseModifiers(send) {
  for (const toggle of ui.toggles) {
    if (toggle.getAttribute('aria-pressed') === 'true') {
      if (send) {
        const [keysym, code] = MODIFIERS[toggle.dataset.modifier];
        rfb?.sendKey(keysym, code, false);
      }
      toggle.setAttribute('aria-pressed', 'false');
    }
  }
}

const COMBOS = {
  'ctrl-alt-backspace': [[KeyTable.XK_Control_L, 'ControlLeft'], [KeyTable.XK_Alt_L, 'AltLeft'], [KeyTable.XK_BackSpace, 'Backspace']],
  'alt-tab': [[KeyTable.XK_Alt_L, 'AltLeft'], [KeyTable.XK_Tab, 'Tab']],
  'alt-f4': [[KeyTable.XK_Alt_L, 'AltLeft'], [KeyTable.XK_F4, 'F4']],
  'print-screen': [[KeyTable.XK_Print, 'PrintScreen']],
  'super': [[KeyTable.XK_Super_L, 'MetaLeft']],
};
for (let n = 1; n <= 12; n += 1) {
  COMBOS[`ctrl-alt-f${n}`] = [[KeyTable.XK_Control_L, 'ControlLeft'], [KeyTable.XK_Alt_L, 'AltLeft'], [KeyTable[`XK_F${n}`], `F${n}`]];
}

ui.keyCombo.addEventListener('change', () => {
  const keys = COMBOS[ui.keyCombo.value];
  ui.keyCombo.value = '';
  if (!keys || !rfb) {
    return;
  }
  for (const [keysym, code] of keys) {
    rfb.sendKey(keysym, code, true);
  }
  for (const [keysym, code] of [...keys].reverse()) {
    rfb.sendKey(keysym, code, false);
  }
  rfb.focus();
});

ui.clipboardToggle.addEventListener('click', () => {
  const open = ui.clipboardPanel.hidden;
  ui.clipboardPanel.hidden = !open;
  ui.clipboardToggle.setAttribute('aria-expanded', String(open));
  if (open) {
    ui.clipboardText.focus();
  } else {
    rfb?.focus();
  }
});

ui.clipboardSend.addEventListener('click', () => {
  rfb?.clipboardPasteFrom(ui.clipboardText.value);
  rfb?.focus();
});

// Consoles without clipboard support (a BIOS, a login prompt) still take typed keys.
ui.clipboardType.addEventListener('click', () => {
  if (!rfb) {
    return;
  }
  for (const character of ui.clipboardText.value) {
    const codePoint = character.codePointAt(0);
    const keysym = character === '\n' ? KeyTable.XK_Return : keysyms.lookup(codePoint);
    rfb.sendKey(keysym, null);
  }
  rfb.focus();
});

ui.fullscreen.hidden = !document.fullscreenEnabled;
ui.fullscreen.addEventListener('click', async () => {
  try {
    if (document.fullscreenElement) {
      await document.exitFullscreen();
    } else {
      await document.documentElement.requestFullscreen();
    }
  } catch (error) {
    ui.status.textContent = `Fullscreen is not available here: ${error.message}`;
  }
});
document.addEventListener('fullscreenchange', () => {
  ui.fullscreen.setAttribute('aria-pressed', String(Boolean(document.fullscreenElement)));
  rfb?.focus();
});

window.addEventListener('beforeunload', () => releaseModifiers(true));

if (!hasToken(settings, document.cookie)) {
  show('failed', 'No console token: open this page with ?token=TOKEN or #ticket=TICKET (the link your cloud portal gives).', { error: 'config' });
} else if (settings.autoconnect) {
  connect();
} else {
  show('idle', 'Ready: press Connect to open the console.');
}
