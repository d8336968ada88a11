// The page's language: chosen once at load from the browser's languages (navigator.languages), one catalogue file per
// language in i18n/ (en.js is the reference and the fallback). Modules that add to the page import `t` from here:
//   import { t } from '/console/i18n.js';  t('presence.viewOnly'), t.plural('presence.watching', 3)
// Catalogues are ES modules rather than JSON so that the page's CSP (script-src 'self') is all they need.
import english from '/console/i18n/en.js';
import { createTranslator, languageCandidates } from '/console/console-core.js';

/** The page's translation function; English until chooseLanguage() has settled. */
export let t = createTranslator(english, 'en');

/**
 * Loads the first catalogue the browser prefers that exists (a language without a file costs one 404) and makes it `t`.
 * @param {readonly string[]} languages
 */
export async function chooseLanguage(languages) {
  for (const language of languageCandidates(languages)) {
    try {
      const catalogue = await import(`/console/i18n/${language}.js`);
      t = createTranslator(catalogue.default, language);
      break;
    } catch {
      // No catalogue for this language: try the next one the browser lists.
    }
  }
  return t;
}

/** Writes the catalogue's texts into the elements that name a key (data-i18n and data-i18n-ATTRIBUTE). */
export function translatePage(root = document) {
  document.documentElement.lang = t.language;
  for (const element of root.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const attribute of ['title', 'aria-label', 'placeholder']) {
    const data = `i18n${attribute.replace(/(^|-)(\w)/g, (_, __, letter) => letter.toUpperCase())}`;
    for (const element of root.querySelectorAll(`[data-i18n-${attribute}]`)) {
      element.setAttribute(attribute, t(element.dataset[data]));
    }
  }
}
