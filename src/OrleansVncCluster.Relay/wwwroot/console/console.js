// The browser console: noVNC's RFB client on the page's own origin, with the controls people expect from a VM console.
// State for people is the status bar; state for tests and embedding pages is <body data-state data-error data-close-code>.
import RFB from '/novnc/core/rfb.js';
import KeyTable from '/novnc/core/input/keysym.js';
import keysyms from '/novnc/core/input/keysymdef.js';
import { initLogging } from '/novnc/core/util/logging.js';
import { isTouchDevice } from '/novnc/core/util/browser.js';
import {
  backoffDelay, buildSocketUrl, describeClose, describeSecurityFailure, hasToken, KEYBOARD_FILL, keyboardInputChange,
  keystrokesFor, MAX_RECONNECT_ATTEMPTS, parseStoredSettings, PICTURE_PRESETS, pictureChoice, readSettings,
  STORED_SETTINGS_KEY, typePaced, withoutSecrets, withStored,
} from '/console/console-core.js';
import { chooseLanguage, t, translatePage } from '/console/i18n.js';
import { newPageId, presenceUrl, showPresence, startPresence, withResume } from '/console/console-presence.js';
import { mayShare, minutesLeft, requestShare, shareUrl } from '/console/console-share.js';

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
  picture: $('picture-select'),
  toolbarToggle: $('toolbar-button'),
  keyboard: $('keyboard-button'),
  keyboardInput: $('keyboard-input'),
  share: $('share-button'),
  sharePanel: $('share-panel'),
  shareLink: $('share-link'),
  shareCopy: $('share-copy-button'),
  shareNote: $('share-note'),
};

// What this browser remembers (scaling, picture, clipboard panel); what the link says wins for this visit only.
const remembered = readRemembered();
const settings = withStored(readSettings(location.search, location.hash), remembered);
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
await chooseLanguage(navigator.languages ?? [navigator.language]);
translatePage();
if (settings.title) {
  document.title = settings.title;
}

let rfb = null;
let session = null;
let reconnectTimer = null;
let reconnectAttempts = 0;
let sessionsStarted = 0;
// Names this page's resume cookie: a reconnect after a drain or a lost node needs neither the ticket nor a password.
const pageId = newPageId();
let stopPresence = null;
// The share call of the live session (its URL names the page, whose resume cookie authorises it); null when none is live.
let shareCall = null;

function show(state, text, extra = {}) {
  document.body.dataset.state = state;
  document.body.dataset.error = extra.error ?? '';
  document.body.dataset.closeCode = extra.closeCode === undefined ? '' : String(extra.closeCode);
  ui.status.textContent = text;
  const live = state === 'connected';
  for (const control of [ui.ctrlAltDel, ui.keyTab, ui.keyEsc, ui.keyCombo, ui.clipboardSend, ui.clipboardType, ui.keyboard, ...ui.toggles]) {
    control.disabled = !live || settings.viewOnly;
  }
  ui.disconnect.hidden = !(live || state === 'connecting' || state === 'credentials' || state === 'reconnecting');
  ui.connect.hidden = !(state === 'disconnected' || state === 'failed' || state === 'idle');
  if (!live) {
    ui.share.hidden = true;
  }
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

  const url = withResume(buildSocketUrl(settings, location), pageId);
  // Our own WebSocket, handed to noVNC: noVNC reports a close only as "clean or not", but the relay's close code and
  // reason are what tell the user why. Registered before noVNC's handler, so the close is known when noVNC reports it.
  let socket;
  try {
    socket = new WebSocket(url);
  } catch (error) {
    show('failed', t('status.cannotOpen', { error: error.message }), { error: 'config' });
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
    show('connected', current.desktopName ? t('status.connectedTo', { name: current.desktopName }) : t('status.connected'));
    focusScreen();
    stopPresence?.();
    shareCall = shareUrl(url, pageId);
    stopPresence = startPresence(presenceUrl(url, pageId), (answer) => {
      showPresence($('presence'), answer, t);
      // A failed call (null) leaves the button as it was: one lost answer says nothing about the session.
      if (answer !== null) {
        ui.share.hidden = !mayShare(answer) || document.body.dataset.state !== 'connected';
      }
    });
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
      ui.status.textContent = t('status.connectedTo', { name: event.detail.name });
    }
  });
  rfb.addEventListener('clipboard', (event) => {
    ui.clipboardText.value = event.detail.text;
  });
  show(reconnectAttempts > 0 ? 'reconnecting' : 'connecting', t(reconnectAttempts > 0 ? 'status.reconnecting' : 'status.connecting'));
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
  stopPresence?.();
  stopPresence = null;
  shareCall = null;
  releaseModifiers(false);
  stopTyping();

  if (current.securityFailure) {
    password = null;
    show('failed', describeSecurityFailure(current.securityFailure, t), { error: 'auth', keepCredentials: true });
    askCredentials(['password'], true);
    return;
  }
  if (current.userClosed) {
    show('disconnected', t('status.disconnected'));
    return;
  }

  const outcome = describeClose(current.close, current.connected, t);
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
    show('failed', t('status.gaveUp', { text, attempts: MAX_RECONNECT_ATTEMPTS }), extra);
    return;
  }
  reconnectAttempts += 1;
  show('reconnecting', t('status.reconnectingIn', { text, seconds: Math.round(delay / 100) / 10 }), extra);
  reconnectTimer = setTimeout(connect, delay);
}

function askCredentials(types, afterFailure = false) {
  const needsUser = types.includes('username');
  ui.username.hidden = !needsUser;
  ui.usernameLabel.hidden = !needsUser;
  ui.credentials.hidden = false;
  if (!afterFailure) {
    show('credentials', t(needsUser ? 'status.askUserPassword' : 'status.askPassword'), { keepCredentials: true });
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
    show('connecting', t('status.authenticating'));
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
    show('disconnected', t('status.disconnected'));
  }
});

/** Gives the keyboard back to noVNC's screen after a control was used, unless the on-screen keyboard is up. */
function focusScreen() {
  if (document.activeElement !== ui.keyboardInput) {
    rfb?.focus();
  }
}

function applyDisplaySettings() {
  if (!rfb) {
    return;
  }
  rfb.viewOnly = settings.viewOnly;
  rfb.scaleViewport = settings.resize === 'scale';
  rfb.resizeSession = settings.resize === 'remote';
  rfb.clipViewport = false;
  rfb.qualityLevel = settings.quality;
  rfb.compressionLevel = settings.compression;
  rfb.focusOnClick = document.activeElement !== ui.keyboardInput;
}

function readRemembered() {
  try {
    return parseStoredSettings(localStorage.getItem(STORED_SETTINGS_KEY));
  } catch {
    return {}; // storage disabled (a privacy setting, a sandboxed frame): nothing is remembered
  }
}

/** Remembers a choice the user made on this page (never one the link made). */
function remember(changes) {
  Object.assign(remembered, changes);
  try {
    localStorage.setItem(STORED_SETTINGS_KEY, JSON.stringify(remembered));
  } catch {
    // storage disabled or full: the choice holds for this visit only
  }
}

ui.resize.value = settings.resize;
ui.resize.addEventListener('change', () => {
  settings.resize = ui.resize.value;
  remember({ resize: settings.resize });
  applyDisplaySettings();
  focusScreen();
});

function showPicture() {
  const choice = pictureChoice(settings.quality, settings.compression);
  const custom = ui.picture.querySelector('option[value="custom"]');
  custom.hidden = choice !== 'custom';
  custom.textContent = t('picture.custom', { quality: settings.quality, compression: settings.compression });
  ui.picture.value = choice;
}

showPicture();
ui.picture.addEventListener('change', () => {
  const levels = PICTURE_PRESETS[ui.picture.value];
  if (levels) {
    settings.quality = levels.quality;
    settings.compression = levels.compression;
    remember({ quality: levels.quality, compression: levels.compression });
  }
  showPicture();
  applyDisplaySettings();
  focusScreen();
});

function press(keysym, code) {
  rfb?.sendKey(keysym, code);
  focusScreen();
}

ui.ctrlAltDel.addEventListener('click', () => {
  rfb?.sendCtrlAltDel();
  focusScreen();
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
    focusScreen();
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
  focusScreen();
});

function showClipboard(open) {
  ui.clipboardPanel.hidden = !open;
  ui.clipboardToggle.setAttribute('aria-expanded', String(open));
}

showClipboard(settings.clipboardOpen);
ui.clipboardToggle.addEventListener('click', () => {
  const open = ui.clipboardPanel.hidden;
  showClipboard(open);
  remember({ clipboardOpen: open });
  if (open) {
    ui.clipboardText.focus();
  } else {
    focusScreen();
  }
});

// Each click makes a fresh link: it opens the console once, so a second helper needs a second link.
ui.share.addEventListener('click', async () => {
  if (!shareCall) {
    return;
  }
  ui.share.disabled = true;
  const shared = await requestShare(shareCall, location.href);
  ui.share.disabled = false;
  ui.sharePanel.hidden = false;
  ui.share.setAttribute('aria-expanded', 'true');
  if (shared.error !== undefined) {
    ui.shareLink.value = '';
    ui.shareNote.textContent = t('share.failed', { error: shared.error });
    return;
  }
  ui.shareLink.value = shared.link;
  ui.shareLink.dataset.minutes = String(minutesLeft(shared.expires));
  ui.shareNote.textContent = t('share.note', { minutes: ui.shareLink.dataset.minutes });
  ui.shareLink.select();
});

ui.shareCopy.addEventListener('click', async () => {
  if (!ui.shareLink.value) {
    return;
  }
  const minutes = ui.shareLink.dataset.minutes ?? '1';
  ui.shareLink.select();
  try {
    // Only in secure contexts (https, localhost); elsewhere the selected text is copied by the user's Ctrl+C.
    await navigator.clipboard.writeText(ui.shareLink.value);
    ui.shareNote.textContent = t('share.copied', { minutes });
  } catch {
    ui.shareNote.textContent = t('share.select', { minutes });
  }
});

ui.clipboardSend.addEventListener('click', () => {
  rfb?.clipboardPasteFrom(ui.clipboardText.value);
  focusScreen();
});

// Consoles without clipboard support (a BIOS, a login prompt) still take typed keys; paced, because a slow guest drops
// keys that arrive in one burst. A second click stops the typing.
let typing = null;

function stopTyping() {
  typing?.cancel();
}

ui.clipboardType.addEventListener('click', () => {
  if (typing) {
    stopTyping();
    return;
  }
  if (!rfb) {
    return;
  }
  const target = rfb;
  const run = typePaced(keystrokesFor(ui.clipboardText.value, keysyms.lookup), ({ keysym, code }) => {
    if (rfb !== target) {
      return false;
    }
    target.sendKey(keysym, code);
    return true;
  });
  typing = run;
  ui.clipboardType.textContent = t('clipboard.stop');
  ui.clipboardType.setAttribute('aria-pressed', 'true');
  run.done.then(() => {
    if (typing === run) {
      typing = null;
    }
    ui.clipboardType.textContent = t('clipboard.type');
    ui.clipboardType.removeAttribute('aria-pressed');
  });
  focusScreen();
});

// Touch screens: the keyboard button focuses a hidden field, which raises the device's own keyboard (as noVNC's
// vnc.html does); phones' keyboards send no dependable key events, so the field's text changes become key presses.
ui.keyboard.hidden = !isTouchDevice;
let keyboardBefore = KEYBOARD_FILL;

function resetKeyboardInput() {
  ui.keyboardInput.value = KEYBOARD_FILL;
  keyboardBefore = KEYBOARD_FILL;
}

resetKeyboardInput();
ui.keyboard.addEventListener('click', () => {
  if (document.activeElement === ui.keyboardInput) {
    ui.keyboardInput.blur();
    rfb?.focus();
    return;
  }
  ui.keyboardInput.focus();
  const end = ui.keyboardInput.value.length;
  ui.keyboardInput.setSelectionRange(end, end);
});
ui.keyboardInput.addEventListener('focus', () => {
  ui.keyboard.setAttribute('aria-pressed', 'true');
  // A tap on the screen must not take the focus back to noVNC's canvas: that would close the keyboard.
  if (rfb) {
    rfb.focusOnClick = false;
  }
});
ui.keyboardInput.addEventListener('blur', () => {
  ui.keyboard.setAttribute('aria-pressed', 'false');
  if (rfb) {
    rfb.focusOnClick = true;
  }
});
ui.keyboardInput.addEventListener('input', () => {
  const after = ui.keyboardInput.value;
  const { backspaces, text } = keyboardInputChange(keyboardBefore, after);
  keyboardBefore = after;
  if (rfb && !settings.viewOnly) {
    for (let i = 0; i < backspaces; i += 1) {
      rfb.sendKey(KeyTable.XK_BackSpace, 'Backspace');
    }
    for (const { keysym, code } of keystrokesFor(text, keysyms.lookup)) {
      rfb.sendKey(keysym, code);
    }
  }
  // Keep some text to delete, and the field short.
  if (after.length === 0 || after.length > 2 * KEYBOARD_FILL.length) {
    resetKeyboardInput();
  }
});
// While the keyboard is up, a press on the screen or on a button keeps it up (noVNC's vnc.html: keepVirtualKeyboard), so
// Ctrl then a letter works; fields and menus may still take the focus.
document.addEventListener('mousedown', (event) => {
  if (document.activeElement === ui.keyboardInput && !event.target.closest?.('input, textarea, select')) {
    event.preventDefault();
  }
}, true);

// Narrow screens show the controls on demand (CSS hides them below 720 px unless data-toolbar is "open").
ui.toolbarToggle.addEventListener('click', () => {
  const open = document.body.dataset.toolbar !== 'open';
  document.body.dataset.toolbar = open ? 'open' : 'closed';
  ui.toolbarToggle.setAttribute('aria-expanded', String(open));
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
    ui.status.textContent = t('status.fullscreenUnavailable', { error: error.message });
  }
});
document.addEventListener('fullscreenchange', () => {
  ui.fullscreen.setAttribute('aria-pressed', String(Boolean(document.fullscreenElement)));
  focusScreen();
});

window.addEventListener('beforeunload', () => releaseModifiers(true));

if (!hasToken(settings, document.cookie)) {
  show('failed', t('status.noToken'), { error: 'config' });
} else if (settings.autoconnect) {
  connect();
} else {
  show('idle', t('status.ready'));
}
