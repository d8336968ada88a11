// The message catalogues: every language covers English's keys with the same placeholders, every key the page uses
// exists, and close codes read as sentences in every language.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import {
  createTranslator, describeClose, describeSecurityFailure, languageCandidates,
} from '../../src/OrleansVncCluster.Relay/wwwroot/console/console-core.js';
import english from '../../src/OrleansVncCluster.Relay/wwwroot/console/i18n/en.js';
import spanish from '../../src/OrleansVncCluster.Relay/wwwroot/console/i18n/es.js';

const consoleDir = new URL('../../src/OrleansVncCluster.Relay/wwwroot/console/', import.meta.url);
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

async function catalogues() {
  const files = (await readdir(new URL('i18n/', consoleDir))).filter((name) => name.endsWith('.js'));
  return Promise.all(files.map(async (name) => [name, (await import(new URL(`i18n/${name}`, consoleDir))).default]));
}

test('every catalogue has exactly English keys, with the same placeholders, and no empty text', async () => {
  const languages = await catalogues();
  assert.ok(languages.length >= 2, 'English and Spanish at least');
  for (const [name, catalogue] of languages) {
    assert.deepEqual(Object.keys(catalogue).filter((key) => !(key in english)), [], `${name} has keys English lacks`);
    assert.deepEqual(Object.keys(english).filter((key) => !(key in catalogue)), [], `${name} lacks English keys`);
    for (const [key, text] of Object.entries(catalogue)) {
      assert.equal(typeof text, 'string', `${name} ${key}`);
      assert.ok(text.trim().length > 0, `${name} ${key} is empty`);
      assert.deepEqual(placeholders(text), placeholders(english[key]), `${name} ${key} has other placeholders than English`);
    }
  }
});

test('the Spanish catalogue is a translation, not a copy', () => {
  const same = Object.keys(english).filter((key) => spanish[key] === english[key]);
  // Key names (Ctrl, Win) and the like may stay; sentences may not.
  assert.ok(same.every((key) => english[key].length <= 4), `untranslated: ${same.join(', ')}`);
});

/** The keys the page's scripts and markup name, found as described in the tests below. */
async function keysThePageUses() {
  const used = new Set();
  for (const page of ['index.html', 'playback.html']) {
    const html = await readFile(new URL(page, consoleDir), 'utf8');
    for (const [, key] of html.matchAll(/data-i18n(?:-[a-z-]+)?="([^"]+)"/g)) {
      used.add(key);
    }
  }
  const namespaces = new Set(Object.keys(english).map((key) => key.split('.')[0]));
  for (const file of ['console.js', 'console-core.js', 'i18n.js', 'playback.js', 'playback-core.js']) {
    const script = await readFile(new URL(file, consoleDir), 'utf8');
    // Every quoted word.word string in a catalogue namespace is taken for a key (t('status.connected'), tables of keys).
    for (const [, key] of script.matchAll(/'([a-z]+(?:\.[A-Za-z0-9]+)+)'/g)) {
      if (namespaces.has(key.split('.')[0])) {
        used.add(key);
      }
    }
    // Plural keys are used by their stem: t.plural('presence.watching', n).
    for (const [, stem] of script.matchAll(/\.plural\('([^']+)'/g)) {
      used.delete(stem);
      used.add(`${stem}.other`);
      // Every plural form of the stem is used: which one shows depends on the count.
      for (const form of Object.keys(english).filter((key) => key.startsWith(`${stem}.`))) {
        used.add(form);
      }
    }
  }
  return used;
}

test('every key the page uses is in the English catalogue', async () => {
  const used = await keysThePageUses();
  assert.ok(used.size > 50, `found only ${used.size} keys: the scan is broken`);
  assert.deepEqual([...used].filter((key) => !(key in english)), []);
});

test('every English text is used by the page, but those kept for the presence module', async () => {
  const used = await keysThePageUses();
  const unused = Object.keys(english).filter((key) => !used.has(key) && !key.startsWith('presence.'));
  assert.deepEqual(unused, [], 'texts nobody shows: remove them, or use them');
});

test('every close code reads as a sentence in Spanish, with the relay reason and code', () => {
  const t = createTranslator(spanish, 'es');
  const codes = [1000, 1001, 1003, 1009, 1011, 1012, 1013, 4400, 4401, 4403, 4404, 4408, 4409, 4410, 4412, 4419, 4421, 4426, 4429, 4999];
  for (const code of codes) {
    const { text } = describeClose({ code, reason: 'relay words' }, true, t);
    assert.match(text, /\(el relay dice: "relay words", código \d+\)$/, `code ${code}: ${text}`);
    const sentence = text.slice(0, text.indexOf(' (el relay'));
    assert.ok(Object.values(spanish).includes(sentence), `code ${code} has a Spanish sentence: ${sentence}`);
  }
  assert.equal(describeClose({ code: 1006 }, true, t).text, spanish['close.lost']);
  assert.equal(describeClose({ code: 4404, reason: '' }, false, t).text, `${spanish['close.unknown']} (código 4404)`);
  assert.equal(describeClose({ code: 4429, reason: 'relay node is full: try again shortly' }, false, t).text,
    `${spanish['limit.nodeFull']} (el relay dice: "relay node is full: try again shortly", código 4429)`);
  assert.match(describeSecurityFailure({ reason: 'no' }, t), /^Falló la autenticación.*\(el servidor dice: "no"\)$/);
});

test('placeholders are filled, numbers written the language way; a missing key falls back to English', () => {
  const es = createTranslator({ 'status.reconnectingIn': '{text} Reconectando en {seconds} s…' }, 'es');
  assert.equal(es('status.reconnectingIn', { text: 'Perdida.', seconds: 1.5 }), 'Perdida. Reconectando en 1,5 s…');
  assert.equal(es('status.connected'), 'Connected');
  assert.equal(es('no.such.key'), 'no.such.key');
  const en = createTranslator(english, 'en');
  assert.equal(en('close.withCode', { sentence: 'S.', code: 4404 }), 'S. (code 4404)', 'codes are not grouped (4,404)');
});

test('the viewer count has plural forms in every language', () => {
  assert.equal(createTranslator(english, 'en').plural('presence.watching', 1), '1 person watching');
  assert.equal(createTranslator(english, 'en').plural('presence.watching', 3), '3 people watching');
  assert.equal(createTranslator(spanish, 'es').plural('presence.watching', 1), '1 persona mirando');
  assert.equal(createTranslator(spanish, 'es').plural('presence.watching', 2), '2 personas mirando');
});

test("the browser's languages pick catalogues by primary subtag, up to the first English one", () => {
  assert.deepEqual(languageCandidates(['es-AR', 'es', 'en-US', 'fr']), ['es']);
  assert.deepEqual(languageCandidates(['de-DE', 'pt_BR', 'en']), ['de', 'pt']);
  assert.deepEqual(languageCandidates(['en-GB', 'es']), []);
  assert.deepEqual(languageCandidates(['../x', '*', 'es']), ['es'], 'only plain subtags make file names');
  assert.deepEqual(languageCandidates(undefined), []);
});
