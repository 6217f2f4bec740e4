import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { balanceChart } from '../../../web-tools/pages/balance-chart';
import { GRAMS_CO2_PER_SHEET, SHEETS_PER_TREE, impactOf, sheetsOf, showCo2, showTrees } from '../../../web-tools/pages/environment';
import { ADDRESS_POLICY, USER_POLICY, addressDelay, lockDuration } from '../../../web-tools/middleware/signin-throttle';
import express from 'express';
import { chooseLanguage, translate } from '../../../web-tools/i18n';
import { date } from '../../../web-tools/helpers/date';
import { megabytes } from '../../../web-tools/helpers/megabytes';
import { number } from '../../../web-tools/helpers/number';
import { percent } from '../../../web-tools/helpers/percent';
import { cacheTemplatesByDefault, createRenderer, webToolsDir } from '../../../web-tools/render';
import { errorMessage, isWebPath } from '../../../web-tools/routes';
import { InsufficientFundsError, InvalidStateError, NotFoundError, ValidationError } from '../../../common/errors';
import { parseWidgetOptions } from '../../../web-tools/routes/widget-options';

describe('chooseLanguage()', () => {
  /** A request as express makes it, with these headers. */
  const request = (acceptLanguage?: string): express.Request =>
    Object.assign(Object.create(express.request) as express.Request, { headers: acceptLanguage === undefined ? {} : { 'accept-language': acceptLanguage } });
  it("picks the browser's best shipped language by q-value, matching a region to its base language", () => {
    assert.equal(chooseLanguage(request('es-MX,es;q=0.9,en;q=0.8')), 'es');
    assert.equal(chooseLanguage(request('de;q=0.9, es;q=0.5, en;q=0.2')), 'es');
    assert.equal(chooseLanguage(request('en-GB, es;q=0.9')), 'en');
  });
  it('falls back to English for no header, unknown languages and q=0', () => {
    assert.equal(chooseLanguage(request()), 'en');
    assert.equal(chooseLanguage(request('ja, zh;q=0.8')), 'en');
    assert.equal(chooseLanguage(request('es;q=0')), 'en');
  });
  it("prefers the user's own shipped language to the browser's, and ignores one that is not shipped", () => {
    assert.equal(chooseLanguage(request('en'), 'es'), 'es');
    assert.equal(chooseLanguage(request('es'), 'en'), 'en');
    assert.equal(chooseLanguage(request('es'), 'fr'), 'es');
    assert.equal(chooseLanguage(request('es'), null), 'es');
  });
});

describe('the message catalogue', () => {
  it('has every key the templates name literally, so no page shows a bare key', () => {
    const catalogue = JSON.parse(fs.readFileSync(path.join(webToolsDir(), 'i18n', 'en.json'), 'utf8')) as Record<string, string>;
    const missing: string[] = [];
    for (const folder of ['views', 'partials']) {
      for (const file of fs.readdirSync(path.join(webToolsDir(), folder))) {
        const source = fs.readFileSync(path.join(webToolsDir(), folder, file), 'utf8');
        for (const [, key = ''] of source.matchAll(/[{(]t "([^"]+)"/g)) if (!(key in catalogue)) missing.push(`${folder}/${file}: ${key}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});

describe('translate()', () => {
  it('fills placeholders and falls back to the key for unknown messages', () => {
    assert.equal(translate('en', 'signin.throttled', { seconds: 30 }), 'Too many failed attempts. Try again in 30 seconds.');
    assert.equal(translate('xx', 'summary.balance'), 'Balance');
    assert.equal(translate('en', 'no.such.key'), 'no.such.key');
  });
  it('never takes an inherited property for a message (a tampered form can name any field)', () => {
    assert.deepEqual(
      ['constructor', '__proto__', 'toString'].map((k) => translate('en', k)),
      ['constructor', '__proto__', 'toString'],
    );
  });
});

describe('{{megabytes}}', () => {
  it('shows bytes as MB of 1,048,576 bytes to two places, halves up, with separators', () => {
    assert.deepEqual([0, 1_572_864, 5_243, 5_242, 1_048_576 * 12_345].map(megabytes), ['0.00', '1.50', '0.01', '0.00', '12,345.00']);
  });
  it('shows nothing for what is not a byte count', () => {
    assert.deepEqual([-1, 1.5, 'x', undefined].map(megabytes), ['', '', '', '']);
  });
});

describe('{{percent}}', () => {
  it('shows basis points as an exact percentage without trailing zeros', () => {
    assert.deepEqual([1250, 500, 1, 10, 0, 10_000, -25].map(percent), ['12.5', '5', '0.01', '0.1', '0', '100', '-0.25']);
  });
});

describe('balanceChart()', () => {
  it('draws a step line from the starting balance through each row to the end of the window', () => {
    const g = balanceChart(100, [{ at: 50, balance: 0 }], 0, 100);
    assert.equal(g.points, '8,8 300,8 300,152 592,152 592,152');
    assert.equal(g.zeroY, 152);
    assert.deepEqual([g.min, g.max], [0, 100]);
  });
  it('keeps zero on the scale when every balance is negative, and ignores rows outside the window', () => {
    const g = balanceChart(-50, [{ at: 200, balance: 999 }], 0, 100);
    assert.equal(g.zeroY, 8);
    assert.deepEqual([g.min, g.max], [-50, -50]);
  });
});

describe('environmental impact', () => {
  it('counts a duplex job as half the sheets, rounded up, per copy', () => {
    assert.equal(sheetsOf(3, 2, true), 4);
    assert.equal(sheetsOf(3, 2, false), 6);
  });
  it('converts sheets to trees and kilograms of CO2 with the documented constants', () => {
    assert.deepEqual([SHEETS_PER_TREE, GRAMS_CO2_PER_SHEET], [8333, 5]);
    assert.deepEqual(impactOf(16666), { sheets: 16666, trees: 2, co2Grams: 83_330 });
  });
  it('shows CO2 in whole grams below 1 kg, so a few pages never read "0 kg"', () => {
    assert.deepEqual(
      [0, 5, 15, 995].map((g) => showCo2(g)),
      [
        { key: 'impact.grams', value: '0' },
        { key: 'impact.grams', value: '5' },
        { key: 'impact.grams', value: '15' },
        { key: 'impact.grams', value: '995' },
      ],
    );
    assert.equal(translate('en', showCo2(15).key, { value: showCo2(15).value }), '15 g');
  });
  it('shows CO2 in kilograms to 0.1 from 1 kg, and in whole kilograms from 100 kg', () => {
    assert.deepEqual(
      [1000, 1250, 1260, 83_330, 99_940, 100_000, 1_234_567].map((g) => showCo2(g).value),
      ['1', '1.3', '1.3', '83.3', '99.9', '100', '1,235'],
    );
    assert.equal(showCo2(83_330).key, 'impact.kilograms');
    assert.equal(translate('en', 'impact.kilograms', { value: '83.3' }), '83.3 kg');
  });
  it('shows trees to three places, "less than 0.001" for a handful of sheets, and to one place from 10', () => {
    const trees = (sheets: number): string => {
      const s = showTrees(impactOf(sheets).trees);
      return translate('en', s.key, { value: s.value });
    };
    assert.deepEqual([0, 1, 4, 5, 7, 8333, 16_666, 100_000, 1_000_000].map(trees), [
      '0',
      'less than 0.001',
      'less than 0.001',
      '0.001',
      '0.001',
      '1',
      '2',
      '12',
      '120',
    ]);
  });
});

describe('lockDuration()', () => {
  it('allows the free failures, then locks for a doubling time capped at the maximum', () => {
    assert.deepEqual(
      [4, 5, 6, 7].map((n) => lockDuration(n, USER_POLICY)),
      [0, 30_000, 60_000, 120_000],
    );
    assert.equal(lockDuration(50, USER_POLICY), 15 * 60_000);
  });
});

describe('addressDelay()', () => {
  it('lets an address fail 20 times in a window, then delays each attempt 250 ms, doubling to at most 10 s', () => {
    assert.deepEqual(
      [0, 19, 20, 21, 22, 23, 24, 25, 26, 27, 1000].map((n) => addressDelay(n)),
      [0, 0, 250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000],
    );
    assert.deepEqual([ADDRESS_POLICY.freeFailures, ADDRESS_POLICY.windowMs], [20, 15 * 60_000]);
  });
});

describe('parseWidgetOptions()', () => {
  it('accepts whitelisted positions and colours and trims the title', () => {
    assert.deepEqual(parseWidgetOptions({ title: ' Print credit ', position: 'bottom-left', bg: 'navy', fg: 'white' }), {
      title: 'Print credit',
      position: 'bottom-left',
      bg: 'navy',
      fg: 'white',
    });
  });
  it('falls back to defaults for anything else and never shows text in its background colour', () => {
    assert.deepEqual(parseWidgetOptions({ position: 'left; background:url(x)', bg: '#fff', fg: ['white'], title: 'x'.repeat(100) }), {
      title: 'x'.repeat(40),
      position: 'top-right',
      bg: 'white',
      fg: 'black',
    });
    assert.equal(parseWidgetOptions({ bg: 'black', fg: 'black' }).fg, 'white');
  });
});

describe('helpers', () => {
  it('date formats epoch milliseconds in UTC, to the minute or the day', () => {
    assert.equal(date(Date.UTC(2026, 10, 22, 5, 30, 59), {}), '2026-11-22 05:30 UTC');
    assert.equal(date(Date.UTC(2026, 10, 22, 5, 30), 'day', {}), '2026-11-22');
    assert.equal(date(null, {}), '');
  });
  it('number groups thousands', () => {
    assert.equal(number(1234567), '1,234,567');
    assert.equal(number(-1000.5), '-1,000.5');
  });
});

describe('createRenderer()', () => {
  it('escapes every value, so a hostile document name renders as text', () => {
    const render = createRenderer({ cache: true });
    const html = render('jobs', {
      title: 'jobs.title',
      lang: 'en',
      csrf: 'tok"en',
      me: { username: '<b>ann</b>', isAdmin: false },
      jobs: [
        {
          id: 1,
          createdAt: 0,
          printer: 'p',
          documentName: '<script>alert(1)</script>',
          pages: 1,
          copies: 1,
          cost: '$0.10',
          statusKey: 'status.printed',
          refundKey: 'refund.none',
          refundable: true,
        },
      ],
    });
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&lt;b&gt;ann&lt;/b&gt;'));
    assert.ok(html.includes('value="tok&quot;en"'));
  });
});

describe('the admin secondaries page', () => {
  it("shows each secondary's dead letters and the newest one, escaped", () => {
    const render = createRenderer({ cache: true });
    const secondary = {
      name: 'print-1',
      host: 'ps1',
      role: 'print',
      roleKey: 'role.print',
      state: 'online',
      stateKey: 'state.online',
      lastSeenAt: 0,
      outboxDepth: 3,
      version: '0.1.0',
    };
    const html = render('admin-secondaries', {
      title: 'admin.secondaries',
      lang: 'en',
      csrf: '',
      me: { username: 'admin', isAdmin: true },
      admin: 'secondaries',
      secondaries: [
        { ...secondary, deadLetters: 2, lastDeadLetter: 'job:urn:uuid:<x>: INVALID_ARGUMENT: printedPages must be at most 1,000,000' },
        { ...secondary, name: 'print-2', deadLetters: 0, lastDeadLetter: '' },
      ],
    });
    assert.ok(html.includes('<th class="num">Dead letters</th>'));
    assert.ok(
      html.includes('<span class="state offline">2</span><br><small>job:urn:uuid:&lt;x&gt;: INVALID_ARGUMENT: printedPages must be at most 1,000,000</small>'),
    );
    assert.ok(!html.includes('<x>'));
  });
});

describe('template caching', () => {
  /** A copy of the web tools' templates that a test may edit. */
  const copyTemplates = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-views-'));
    fs.cpSync(path.join(webToolsDir(), 'views'), path.join(dir, 'views'), { recursive: true });
    fs.cpSync(path.join(webToolsDir(), 'partials'), path.join(dir, 'partials'), { recursive: true });
    return dir;
  };
  const context = { title: 'error.title', lang: 'en', csrf: '', me: null, message: 'error.404' };
  let dir = '';
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('caches unless NODE_ENV is development (unset, production and test all cache)', () => {
    assert.deepEqual(
      [undefined, 'production', 'test', 'development'].map((e) => cacheTemplatesByDefault(e)),
      [true, true, true, false],
    );
  });
  it('reads and compiles each template once when caching: a second render does not see the file change', () => {
    dir = copyTemplates();
    const render = createRenderer({ cache: true, dir });
    assert.match(render('error', context), /There is nothing here\./);
    fs.writeFileSync(path.join(dir, 'views', 'error.hbs'), '<p>edited</p>');
    fs.rmSync(path.join(dir, 'partials'), { recursive: true });
    const second = render('error', context);
    assert.match(second, /There is nothing here\./);
    assert.doesNotMatch(second, /edited/);
  });
  it('re-reads the templates on every render when not caching, so edits show at once', () => {
    dir = copyTemplates();
    const render = createRenderer({ cache: false, dir });
    assert.match(render('error', context), /There is nothing here\./);
    fs.writeFileSync(path.join(dir, 'views', 'error.hbs'), '<p>edited</p>');
    assert.match(render('error', context), /<p>edited<\/p>/);
  });
});

describe('errorMessage()', () => {
  const shown = (err: unknown): string => {
    const { message, field } = errorMessage(err);
    return translate('en', message, { field: translate('en', field) });
  };
  it("explains an error from the catalogue by its code and field, never with the service's English message", () => {
    assert.equal(shown(new ValidationError('amount has more than 2 decimal places: 1.234', { field: 'amount' })), 'That did not work: check the amount.');
    assert.equal(
      shown(new ValidationError('invalid value for currency.decimals: Too big', { key: 'currency.decimals' })),
      'That did not work: check currency.decimals.',
    );
    assert.equal(shown(new ValidationError('bad')), 'That did not work: something in the form is not valid.');
    assert.equal(shown(new NotFoundError('print job', 7)), 'There is nothing here.');
    assert.equal(
      shown(new InsufficientFundsError({ accountId: 1, available: 0, amount: 5, creditLimit: 0 })),
      'That did not work: there is not enough credit for it.',
    );
    assert.equal(
      shown(new InvalidStateError('refund request 3 is already approved')),
      'That did not work: it has already been done, or cannot be done any more.',
    );
    assert.equal(shown(new Error('secret internals')), 'Something went wrong on our side. Try again later.');
  });
});

describe('isWebPath()', () => {
  it('claims the pages and leaves health checks and APIs alone', () => {
    assert.deepEqual(
      ['/', '/signin', '/jobs', '/jobs/refund', '/admin', '/admin/users/3', '/static/quotient.css', '/widget'].map(isWebPath),
      Array(8).fill(true),
    );
    assert.deepEqual(['/healthz', '/api/v1/users', '/jobsx', '/rpc/api/xmlrpc'].map(isWebPath), [false, false, false, false]);
  });
});
