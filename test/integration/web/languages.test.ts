/**
 * The web tools in a second language, over HTTP on a real primary (one per dialect; each test
 * starts from empty tables): every page, user and admin, rendered with data in Spanish shows no
 * English, and no message falls back to English; the language is the user's own setting (the
 * summary page's form, `quotient users set --language`), else the browser's, else English.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { RunningPrimary } from '../../../primary/boot';
import { MB } from '../../../primary/internet/internet-settings';
import { QuotaAdmin } from '../../../primary/quotas/quota-admin';
import { CATALOGUES, onFallback, type Fallback } from '../../../web-tools/i18n';
import { webToolsDir } from '../../../web-tools/render';
import { runCliInProcess } from '../../utils/cli';
import { describeOnEachDatabase } from '../../utils/databases';
import { jobDescription } from '../../utils/fixtures';
import { startTestPrimary } from '../../utils/primary';
import { WebClient, errorText, type WebAnswer } from '../../utils/web-client';

const ADMIN_PASSWORD = 'admin-password-for-tests';
const ANN_PASSWORD = 'ann-password-1';
const SPANISH = { 'accept-language': 'es-ES,es;q=0.9,en;q=0.5' };

/**
 * The English form of every message whose Spanish differs, cut at its placeholders: the pieces a
 * page in Spanish must not show. Pieces shorter than four characters ("No", "s") are left out.
 */
const ENGLISH_PIECES: readonly string[] = [
  ...new Set(
    Object.entries(CATALOGUES.en)
      .filter(([key, text]) => CATALOGUES.es[key] !== text)
      .flatMap(([, text]) => text.split(/\{\w+\}/))
      .map((piece) => piece.trim())
      .filter((piece) => piece.length >= 4),
  ),
];

/**
 * What a reader sees of a page, but for stored free text (ledger comments, marked translate="no"
 * as HTML has it): its text, and the labels, titles and placeholders of its elements.
 */
function visibleText(html: string): string {
  const shown = html.replace(/<(\w+)[^>]*\stranslate="no"[^>]*>[\s\S]*?<\/\1>/g, ' ');
  const attributes = [...shown.matchAll(/\s(?:aria-label|title|placeholder|alt)="([^"]*)"/g)].map((m) => m[1]);
  const text = shown.replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ').replace(/<[^>]*>/g, ' ');
  return [text, ...attributes]
    .join(' ')
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** The English pieces a page shows, as whole words (so "Admin" is not found in "Administración"). */
function englishIn(html: string): string[] {
  const text = visibleText(html);
  return ENGLISH_PIECES.filter((piece) => new RegExp(`(?<![\\p{L}\\p{N}])${piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}])`, 'u').test(text));
}

const pageLanguage = (res: WebAnswer): string | undefined => /<html lang="([^"]*)"/.exec(res.text)?.[1];

/** One request per view: who asks, how, and the status it answers with. */
function pages(ids: {
  annId: number;
  printerId: number;
  cardId: number;
  runId: number;
  accountId: number;
}): Record<string, { who: 'nobody' | 'ann' | 'admin'; path: string; form?: Record<string, string>; status?: number }> {
  return {
    signin: { who: 'nobody', path: '/signin' },
    summary: { who: 'ann', path: '/' },
    jobs: { who: 'ann', path: '/jobs?done=refund' },
    transactions: { who: 'ann', path: '/transactions' },
    internet: { who: 'ann', path: '/internet' },
    rates: { who: 'ann', path: '/rates' },
    transfers: { who: 'ann', path: '/transfers', form: { to: 'nadie', amount: '1.00', comment: '', formKey: 'es-transfer-form-0001' }, status: 404 },
    widget: { who: 'ann', path: '/widget' },
    'widget-help': { who: 'ann', path: '/widget/help' },
    error: { who: 'ann', path: '/admin', status: 403 },
    'admin-dashboard': { who: 'admin', path: '/admin' },
    'admin-users': { who: 'admin', path: '/admin/users' },
    'admin-user': { who: 'admin', path: `/admin/users/${ids.annId}` },
    'admin-groups': { who: 'admin', path: '/admin/groups' },
    'admin-printers': { who: 'admin', path: '/admin/printers' },
    'admin-printer-filters': { who: 'admin', path: `/admin/printers/${ids.printerId}/filters?saved=1` },
    'admin-secondaries': { who: 'admin', path: '/admin/secondaries' },
    'admin-refunds': { who: 'admin', path: '/admin/refunds' },
    'admin-audit': { who: 'admin', path: '/admin/audit' },
    'admin-settings': { who: 'admin', path: '/admin/settings?saved=1' },
    'admin-rate-card-new': { who: 'admin', path: '/admin/rate-cards/new' },
    cards: { who: 'ann', path: '/cards', form: { number: '12345-67890' }, status: 400 },
    'admin-cards': { who: 'admin', path: '/admin/cards' },
    'admin-card-batch': { who: 'admin', path: '/admin/cards/Primavera' },
    'admin-rate-card': { who: 'admin', path: `/admin/rate-cards/${ids.cardId}` },
    accounts: { who: 'ann', path: '/accounts?changed=1' },
    'admin-accounts': { who: 'admin', path: '/admin/accounts', form: { name: 'Otra', pin: '12a4', multiplier: '1', creditLimit: '0.00' }, status: 400 },
    'admin-account': { who: 'admin', path: `/admin/accounts/${ids.accountId}?saved=1` },
    'admin-quota-run': { who: 'admin', path: `/admin/quotas/Mensual/runs/${ids.runId}` },
    'admin-quota-refused': {
      who: 'admin',
      path: '/admin/quotas',
      form: { name: 'Mensual', for: '*', period: 'monthly', day: '1', at: '06:00', amount: '2.00', formKey: 'es-quota-form-000001' },
      status: 409,
    },
  };
}

/** More requests for views already named above, showing what else they can show: an allocation account. */
function morePages(ids: { allocationId: number }): Record<string, { who: 'ann' | 'admin'; path: string }> {
  return {
    'admin-account, an allocation account': { who: 'admin', path: `/admin/accounts/${ids.allocationId}` },
  };
}

describeOnEachDatabase('the web tools in Spanish', (t) => {
  let primary: RunningPrimary;
  let base: string;
  let annId: number;
  const fallbacks: Fallback[] = [];
  let stopListening: () => void;

  before(async () => {
    primary = await startTestPrimary(t);
    base = `http://127.0.0.1:${primary.httpPort}`;
    stopListening = onFallback((f) => fallbacks.push(f));
  });

  after(async () => {
    stopListening();
    await primary.shutdown();
  });

  beforeEach(async () => {
    await primary.services.users.createUser({ username: 'admin', password: ADMIN_PASSWORD, isAdmin: true, restricted: false });
    annId = (
      await primary.services.users.createUser({ username: 'ann', fullName: 'Ana Ejemplo', password: ANN_PASSWORD, restricted: true, initialCredit: 1000 })
    ).id;
    await primary.services.users.createUser({ username: 'bea', restricted: false, initialCredit: 500 });
    fallbacks.length = 0;
  });

  const signedIn = async (username: string, password: string, headers: Record<string, string> = SPANISH): Promise<WebClient> => {
    const client = new WebClient(base);
    assert.equal((await client.signIn(username, password, headers)).status, 303, `sign-in of ${username}`);
    return client;
  };

  it('names one request for each view below, so a new view cannot go untested', () => {
    const views = fs
      .readdirSync(path.join(webToolsDir(), 'views'))
      .map((f) => f.replace(/\.hbs$/, ''))
      .filter((v) => v !== 'layout');
    assert.deepEqual(Object.keys(pages({ annId: 0, printerId: 0, cardId: 0, runId: 0, accountId: 0 })).sort(), views.sort());
  });

  it('would notice an English message on a page (the check itself can fail)', async () => {
    const res = await (await signedIn('ann', ANN_PASSWORD, { 'accept-language': 'en' })).get('/');
    assert.deepEqual(englishIn(res.text).slice(0, 3), ['Summary', 'Print jobs', 'Transactions']);
  });

  // One test only: the primary keeps its printers in memory, so the data is made once.
  describe('every page, user and admin, with data', () => {
    let printerId: number;
    let cardId: number;
    let runId: number;
    let accountId: number;
    let allocationId: number;

    beforeEach(async () => {
      await primary.secondaries.register(
        {
          name: 'print-1',
          role: 'print',
          version: '1.0.0',
          host: 'impresion-1',
          printers: [{ queue: 'library-laser', description: 'Láser', location: 'Biblioteca', deviceUri: 'ipp://laser/' }],
        },
        '127.0.0.1',
      );
      const job = jobDescription({ documentName: 'tesis.pdf', pages: 4 });
      const auth = await primary.services.printing.submit({ kind: 'authorize', secondary: 'print-1', job });
      assert.equal(auth.kind === 'authorized' && auth.allowed, true);
      assert.equal((await primary.services.printing.submit({ kind: 'commit', secondary: 'print-1', jobId: job.jobId })).kind, 'committed');
      printerId = Number(((await t.db.knex('printers').first('id')) as { id: number }).id);
      cardId = Number(((await t.db.knex('rate_cards').first('id')) as { id: number }).id);
      await primary.services.internetSettings.set({ costPerMbMilli: 2500 });
      const at = Date.now() - 60_000;
      await primary.services.internet.report({
        reportId: 'es-r1',
        secondary: 'proxy-1',
        intervalStartMs: at,
        intervalEndMs: at + 300_000,
        lines: [
          { username: 'ann', domain: 'example.com', bytesIn: 12 * MB, bytesOut: 0, cacheHitBytes: 0, requests: 4, firstSeenMs: at, lastSeenMs: at + 1000 },
        ],
      });
      await primary.services.settings.setAll({ 'transfers.enabled': true });
      const quotas = new QuotaAdmin({ services: primary.services });
      await quotas.create({ name: 'Mensual', allUsers: true, period: 'monthly', day: '1', at: '06:00', amount: '2.00' }, undefined, 'admin');
      await quotas.create(
        { name: 'Semanal', allUsers: true, period: 'weekly', weekday: 'mon', at: '07:30', amount: '1.00', mode: 'reset' },
        undefined,
        'admin',
      );
      runId = (await quotas.runNow('Mensual', undefined, 'admin')).run.id;
      await primary.services.cards.generate({ name: 'Primavera', value: 1000, expiresOn: '2099-06-30', notes: 'para la biblioteca', actor: 'admin' }, 2);
      const account = await primary.services.accounts.create({ name: 'Biblioteca', code: 'BIB', restricted: true, creditLimit: 500 }, 'admin');
      accountId = account.id;
      await primary.services.accounts.grant('Biblioteca', { user: 'ann' }, 'admin');
      await primary.services.groups.create({ name: 'personal' }, 'admin');
      await primary.services.accounts.grant('Biblioteca', { group: 'personal' }, 'admin');
      await primary.services.balances.adjust({ accountId, amount: 2000, comment: 'presupuesto', key: 'es-account-budget', actor: 'admin' });
      const onAccount = jobDescription({ documentName: 'mapa.pdf', pages: 2, accountCode: 'BIB' });
      await primary.services.printing.submit({ kind: 'authorize', secondary: 'print-1', job: onAccount });
      await primary.services.printing.submit({ kind: 'commit', secondary: 'print-1', jobId: onAccount.jobId });
      // An allocation account ann may charge (so /accounts shows her allocation), its period paid, one job on it.
      const monthly = { period: 'monthly' as const, weekday: null, dayOfMonth: 1, atTime: '06:00', cron: null, amount: 300 };
      const allocation = await primary.services.allocations.create({ name: 'Laboratorio', code: 'LAB', limit: 'soft', schedule: monthly }, 'admin');
      allocationId = allocation.id;
      await primary.services.accounts.grant('Laboratorio', { user: 'ann' }, 'admin');
      await primary.services.quotas.runNow(allocation.schedule.name);
      const onAllocation = jobDescription({ documentName: 'informe.pdf', pages: 1, accountCode: 'LAB' });
      await primary.services.printing.submit({ kind: 'authorize', secondary: 'print-1', job: onAllocation });
      await primary.services.printing.submit({ kind: 'commit', secondary: 'print-1', jobId: onAllocation.jobId });
    });

    it('shows no English and looks up no message that Spanish lacks', async () => {
      const clients = { nobody: new WebClient(base), ann: await signedIn('ann', ANN_PASSWORD), admin: await signedIn('admin', ADMIN_PASSWORD) };
      // Data for the pages that show it: a refund request, printer filters that refuse something.
      const jobId = String(((await t.db.knex('print_jobs').first('id')) as { id: number }).id);
      assert.equal((await clients.ann.post('/jobs/refund', { jobId, reason: 'atasco de papel' }, SPANISH)).status, 303);
      const filters = {
        maxPages: '100',
        maxCopies: '5',
        maxCost: '5.00',
        colour: 'greyscaleOnly',
        sides: 'duplexOnly',
        paperSizes: 'A4',
        nameAllow: '*.pdf',
        nameDeny: '*.exe',
        duplicateWindowSeconds: '60',
      };
      assert.equal((await clients.admin.post(`/admin/printers/${printerId}/filters`, filters, SPANISH)).status, 303);

      const found: Record<string, string[]> = {};
      const requests: [string, { who: 'nobody' | 'ann' | 'admin'; path: string; form?: Record<string, string>; status?: number }][] = [
        ...Object.entries(pages({ annId, printerId, cardId, runId, accountId })),
        ...Object.entries(morePages({ allocationId })),
      ];
      for (const [view, p] of requests) {
        const client = clients[p.who];
        fallbacks.length = 0;
        const res = p.form ? await client.post(p.path, p.form, SPANISH) : await client.get(p.path, SPANISH);
        assert.equal(res.status, p.status ?? 200, `${view}: ${p.form ? 'POST' : 'GET'} ${p.path}`);
        assert.equal(pageLanguage(res), 'es', view);
        const problems = [...englishIn(res.text), ...fallbacks.map((f) => `no ${f.lang} message for "${f.key}" (${f.to} shown)`)];
        if (problems.length > 0) found[view] = problems;
      }
      assert.deepEqual(found, {});
      // The allocation texts were among those checked: ann's allocation left, the admin's edit and rename forms.
      const es = (key: string): string => CATALOGUES.es?.[key] ?? assert.fail(`no Spanish ${key}`);
      const accountsPage = (await clients.ann.get('/accounts', SPANISH)).text;
      for (const key of ['accounts.allocation.left', 'accounts.allocation.perPeriod', 'accounts.allocation.limit.soft'])
        assert.ok(accountsPage.includes(es(key)), `/accounts shows ${key} in Spanish`);
      const allocationPage = (await clients.admin.get(`/admin/accounts/${allocationId}`, SPANISH)).text;
      for (const key of ['accounts.allocation.title', 'accounts.allocation.editHint', 'accounts.rename.hint'])
        assert.ok(allocationPage.includes(es(key).replace(/'/g, '&#x27;')), `the allocation account's page shows ${key} in Spanish`);
      // The widget's example address carries a title in the page's language too (Handlebars writes = as &#x3D;).
      assert.ok(
        (await clients.ann.get('/widget/help', SPANISH)).text.includes(
          '<a href="/widget?title&#x3D;Saldo%20de%20impresi%C3%B3n&amp;position&#x3D;top-right&amp;bg&#x3D;navy&amp;fg&#x3D;white">',
        ),
      );
    });
  });

  describe('which language a page is in', () => {
    it("follows the browser's languages when signed out: Spanish for es-*, English for none or an unshipped one", async () => {
      const client = new WebClient(base);
      const signin = async (headers: Record<string, string>) => {
        const res = await client.get('/signin', headers);
        return [pageLanguage(res), /<h1>([^<]*)<\/h1>/.exec(res.text)?.[1]];
      };
      assert.deepEqual(await signin({ 'accept-language': 'es-MX' }), ['es', 'Iniciar sesión']);
      assert.deepEqual(await signin({ 'accept-language': 'fr-FR, es;q=0.4, en;q=0.3' }), ['es', 'Iniciar sesión']);
      assert.deepEqual(await signin({ 'accept-language': 'fr-FR' }), ['en', 'Sign in']);
      assert.deepEqual(await signin({}), ['en', 'Sign in']);
    });

    it("prefers the user's own setting to the browser's, from the summary page's form, until set back to the browser's", async () => {
      const ann = await signedIn('ann', ANN_PASSWORD, SPANISH);
      assert.equal(pageLanguage(await ann.get('/', SPANISH)), 'es');
      const saved = await ann.post('/language', { language: 'en' }, SPANISH);
      assert.deepEqual([saved.status, saved.location], [303, '/#language']);
      const summary = await ann.get('/', SPANISH);
      assert.equal(pageLanguage(summary), 'en');
      assert.match(summary.text, /<option value="en" lang="en" selected>English<\/option>/);
      assert.equal(pageLanguage(await ann.get('/jobs', SPANISH)), 'en');
      assert.equal(((await t.db.knex('users').where({ id: annId }).first('language')) as { language: string | null }).language, 'en');
      const audit = (await t.db.knex('audit_log').where({ action: 'user.update', target_id: 'ann' }).select('actor', 'details')) as {
        actor: string;
        details: string;
      }[];
      assert.deepEqual(
        audit.map((a) => [a.actor, JSON.parse(a.details) as unknown]),
        [['ann', { language: 'en' }]],
      );

      await ann.post('/language', { language: '' }, SPANISH);
      assert.equal(pageLanguage(await ann.get('/', SPANISH)), 'es');
      assert.equal(((await t.db.knex('users').where({ id: annId }).first('language')) as { language: string | null }).language, null);
    });

    it('refuses a language that is not shipped, in the page language, and changes nothing', async () => {
      const ann = await signedIn('ann', ANN_PASSWORD, SPANISH);
      const refused = await ann.post('/language', { language: 'fr' }, SPANISH);
      assert.equal(refused.status, 400);
      assert.equal(errorText(refused), 'No se ha podido hacer: revise el idioma.');
      assert.equal(((await t.db.knex('users').where({ id: annId }).first('language')) as { language: string | null }).language, null);
    });

    it('is set by an administrator with quotient users set --language, and shown by quotient users show', async () => {
      const db = ['--database-url', t.url, '--data-dir', t.dataDir];
      assert.deepEqual(await runCliInProcess(['users', 'set', 'ann', '--language', 'es', ...db]), { code: 0, stdout: 'updated user ann\n', stderr: '' });
      const ann = await signedIn('ann', ANN_PASSWORD, { 'accept-language': 'en' });
      const summary = await ann.get('/', { 'accept-language': 'en' });
      assert.equal(pageLanguage(summary), 'es');
      assert.equal(/<h1>([^<]*)<\/h1>/.exec(summary.text)?.[1], 'Su cuenta');
      assert.match((await runCliInProcess(['users', 'show', 'ann', ...db])).stdout, /^language {7}es$/m);
      assert.equal((await runCliInProcess(['users', 'set', 'ann', '--language', 'browser', ...db])).code, 0);
      assert.equal(pageLanguage(await ann.get('/', { 'accept-language': 'en' })), 'en');
      assert.match((await runCliInProcess(['users', 'show', 'ann', ...db])).stdout, /^language {7}the browser's$/m);
      const refused = await runCliInProcess(['users', 'set', 'ann', '--language', 'fr', ...db]);
      assert.deepEqual(
        [refused.code, refused.stderr],
        [1, "error: option '--language <tag>' argument 'fr' is invalid. Allowed choices are en, es, browser.\n"],
      );
    });
  });
});
