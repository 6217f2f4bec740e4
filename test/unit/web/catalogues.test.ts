/**
 * The message catalogues agree: every shipped language has every key, each message fills the
 * same placeholders as the English one, and the language form offers every shipped language.
 * (That each page shows no English when Spanish is chosen is test/integration/web/languages.test.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { LANGUAGES } from '../../../primary/users/languages';
import { CATALOGUES, onFallback, placeholdersOf, translate, type Fallback } from '../../../web-tools/i18n';
import { webToolsDir } from '../../../web-tools/render';

describe('the shipped catalogues', () => {
  const shipped = Object.entries(CATALOGUES);

  it('are one JSON file for each shipped language, and no other', () => {
    const files = fs
      .readdirSync(path.join(webToolsDir(), 'i18n'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5));
    assert.deepEqual(files.sort(), [...LANGUAGES].sort());
    assert.deepEqual(Object.keys(CATALOGUES).sort(), [...LANGUAGES].sort());
  });

  it('each have every key any other has', () => {
    const allKeys = new Set(shipped.flatMap(([, messages]) => Object.keys(messages)));
    const missing = shipped.flatMap(([lang, messages]) => [...allKeys].filter((k) => !Object.hasOwn(messages, k)).map((k) => `${lang}.json lacks ${k}`));
    assert.deepEqual(missing, []);
  });

  it('fill the same {placeholders} in each message as English does', () => {
    const mismatched: string[] = [];
    for (const [lang, messages] of shipped) {
      for (const [key, text] of Object.entries(messages)) {
        const english = CATALOGUES.en[key];
        if (english !== undefined && placeholdersOf(text).join() !== placeholdersOf(english).join())
          mismatched.push(`${lang}.json ${key}: {${placeholdersOf(text).join('},{')}} where en has {${placeholdersOf(english).join('},{')}}`);
      }
    }
    assert.deepEqual(mismatched, []);
  });

  it('translate every message that is not a name, number or unit (so a copied English value shows as untranslated)', () => {
    // Messages that read the same in every language: the product's name, units, language names.
    const same = new Set([
      'app.name',
      'summary.co2',
      'impact.grams',
      'impact.kilograms',
      'impact.trees',
      'refund.none',
      'nav.internet',
      'type.net',
      'admin.no',
      'language.en',
      'language.es',
    ]);
    const untranslated = shipped.flatMap(([lang, messages]) =>
      lang === 'en'
        ? []
        : Object.entries(messages)
            .filter(([key, text]) => text === CATALOGUES.en[key] && !same.has(key))
            .map(([key]) => `${lang}.json ${key}`),
    );
    assert.deepEqual(untranslated, []);
  });

  it('are each offered by the language form', () => {
    const form = fs.readFileSync(path.join(webToolsDir(), 'partials', 'language-form.hbs'), 'utf8');
    assert.deepEqual(
      [...form.matchAll(/<option value="(\w+)"/g)].map((m) => m[1]),
      [...LANGUAGES],
    );
  });
});

describe('onFallback()', () => {
  it('hears each lookup that English or the bare key had to answer, until unsubscribed', () => {
    const heard: Fallback[] = [];
    const stop = onFallback((f) => heard.push(f));
    try {
      assert.equal(translate('es', 'summary.balance'), 'Saldo');
      assert.equal(translate('xx', 'summary.balance'), 'Balance');
      assert.equal(translate('es', 'no.such.key'), 'no.such.key');
    } finally {
      stop();
    }
    translate('xx', 'summary.balance');
    assert.deepEqual(heard, [
      { lang: 'xx', key: 'summary.balance', to: 'english' },
      { lang: 'es', key: 'no.such.key', to: 'key' },
    ]);
  });
});
