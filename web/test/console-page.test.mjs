// Unit tests of the console page's round-2 decisions: remembered settings, the picture choice, paced typing, and the
// on-screen keyboard's field. The browser side is tested by tests/OrleansVncCluster.IntegrationTests/Console.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  keyboardInputChange, keystrokesFor, parseStoredSettings, PICTURE_PRESETS, pictureChoice, readSettings, TYPE_INTERVAL_MS,
  typePaced, withStored,
} from '../../src/OrleansVncCluster.Relay/wwwroot/console/console-core.js';

/** A clock that moves only when told: timers run in due order as `advance` passes them. */
function fakeClock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map();
  return {
    setTimer(callback, delay) {
      const id = nextId++;
      timers.set(id, { due: now + delay, callback });
      return id;
    },
    clearTimer(id) {
      timers.delete(id);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = [...timers].filter(([, timer]) => timer.due <= until).sort((a, b) => a[1].due - b[1].due)[0];
        if (!due) {
          break;
        }
        timers.delete(due[0]);
        now = due[1].due;
        due[1].callback();
      }
      now = until;
    },
    get pending() {
      return timers.size;
    },
  };
}

const ascii = (codePoint) => codePoint;

test('typing presses the first key at once, then one key every 10 ms', async () => {
  const clock = fakeClock();
  const pressed = [];
  const run = typePaced(keystrokesFor('abc', ascii), (key) => pressed.push(key.keysym), clock);

  assert.deepEqual(pressed, [0x61]);
  clock.advance(TYPE_INTERVAL_MS - 1);
  assert.deepEqual(pressed, [0x61], 'no second key before the interval');
  clock.advance(1);
  assert.deepEqual(pressed, [0x61, 0x62]);
  clock.advance(TYPE_INTERVAL_MS);
  assert.deepEqual(pressed, [0x61, 0x62, 0x63]);
  assert.equal(await run.done, 'typed');
  assert.equal(clock.pending, 0, 'no timer left behind');
  assert.equal(TYPE_INTERVAL_MS, 10);
});

test('stopping the typing presses no further key', async () => {
  const clock = fakeClock();
  const pressed = [];
  const run = typePaced(keystrokesFor('hello', ascii), (key) => pressed.push(key.keysym), clock);
  clock.advance(TYPE_INTERVAL_MS);

  run.cancel();
  clock.advance(10 * TYPE_INTERVAL_MS);

  assert.equal(pressed.length, 2);
  assert.equal(await run.done, 'cancelled');
  assert.equal(clock.pending, 0);
});

test('typing stops when the session that started it is gone', async () => {
  const clock = fakeClock();
  let presses = 0;
  const run = typePaced(keystrokesFor('hello', ascii), () => ++presses < 3, clock);

  clock.advance(10 * TYPE_INTERVAL_MS);

  assert.equal(presses, 3);
  assert.equal(await run.done, 'stopped');
});

test('typing nothing is done at once', async () => {
  const clock = fakeClock();
  assert.equal(await typePaced([], () => assert.fail('no key'), clock).done, 'typed');
});

test('line breaks type Return (CR LF once), tabs type Tab, other characters their keysym', () => {
  const keys = keystrokesFor('a\r\nb\tc\rd\n', (codePoint) => codePoint + 0x1000);
  assert.deepEqual(keys.map((key) => key.keysym), [0x1061, 0xff0d, 0x1062, 0xff09, 0x1063, 0xff0d, 0x1064, 0xff0d]);
  assert.equal(keys[1].code, 'Enter');
  assert.equal(keystrokesFor('😀', (codePoint) => codePoint).length, 1, 'an astral character is one key');
});

test('the on-screen keyboard field: typing appends, Backspace deletes, a correction retypes', () => {
  assert.deepEqual(keyboardInputChange('___', '___hi'), { backspaces: 0, text: 'hi' });
  assert.deepEqual(keyboardInputChange('___hi', '___h'), { backspaces: 1, text: '' });
  assert.deepEqual(keyboardInputChange('___teh', '___the '), { backspaces: 2, text: 'he ' });
  assert.deepEqual(keyboardInputChange('___a😀', '___a'), { backspaces: 1, text: '' });
  assert.deepEqual(keyboardInputChange('___', '___'), { backspaces: 0, text: '' });
});

test('remembered settings apply when the link does not choose', () => {
  const settings = withStored(readSettings('?token=t', ''), { resize: 'off', quality: 3, compression: 6, clipboardOpen: true });
  assert.equal(settings.resize, 'off');
  assert.equal(settings.quality, 3);
  assert.equal(settings.compression, 6);
  assert.equal(settings.clipboardOpen, true);
});

test("the link's own resize, quality and compression win over remembered ones", () => {
  const settings = withStored(readSettings('?token=t&resize=remote&quality=8', '#compression=1'), { resize: 'off', quality: 3, compression: 6 });
  assert.equal(settings.resize, 'remote');
  assert.equal(settings.quality, 8);
  assert.equal(settings.compression, 1);
});

test("nothing remembered: noVNC's defaults (scale, quality 6, compression 2, clipboard closed)", () => {
  const settings = withStored(readSettings('?token=t&quality=12', ''), {});
  assert.equal(settings.resize, 'scale');
  assert.equal(settings.quality, 6, 'an out-of-range quality is ignored');
  assert.equal(settings.compression, 2);
  assert.equal(settings.clipboardOpen, false);
});

test('stored settings are read defensively: broken or foreign values are dropped', () => {
  assert.deepEqual(parseStoredSettings(null), {});
  assert.deepEqual(parseStoredSettings('{not json'), {});
  assert.deepEqual(parseStoredSettings('[1,2]'), {});
  assert.deepEqual(parseStoredSettings('{"resize":"huge","quality":10,"compression":1.5,"clipboardOpen":"yes","x":1}'), {});
  assert.deepEqual(parseStoredSettings('{"resize":"remote","quality":0,"compression":9,"clipboardOpen":false}'),
    { resize: 'remote', quality: 0, compression: 9, clipboardOpen: false });
});

test('the picture selector names a preset, or custom for levels from a link', () => {
  for (const [name, levels] of Object.entries(PICTURE_PRESETS)) {
    assert.equal(pictureChoice(levels.quality, levels.compression), name);
  }
  assert.deepEqual(PICTURE_PRESETS.balanced, { quality: 6, compression: 2 });
  assert.equal(pictureChoice(7, 2), 'custom');
});
