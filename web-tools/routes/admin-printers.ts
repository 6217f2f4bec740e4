/**
 * The admin form for one printer's filters (mounted at /admin/printers; the list links to it):
 * GET shows the filters and the form, POST validates the whole form and saves it through
 * PrinterRegistry.update(), which audits the change. A refused form is shown again, as typed,
 * with a message from the catalogue. Saving the same form twice leaves the same filters and
 * writes no second audit row, so no one-time form key is needed.
 */
import { Router, type Response } from 'express';
import { isQuotientError, ValidationError } from '../../common/errors';
import { formatAmount, parseAmount } from '../../common/money';
import { parseFilters, type PrinterFilters } from '../../primary/printing/printer-filters';
import type { PrinterInfo } from '../../primary/printing/printer-registry';
import { currentUser, page, webContext, type WebDeps } from '../middleware/context';

/** The form's fields, as typed. */
type FilterForm = Record<(typeof FIELDS)[number], string>;
const FIELDS = ['maxPages', 'maxCopies', 'maxCost', 'colour', 'sides', 'paperSizes', 'nameAllow', 'nameDeny', 'duplicateWindowSeconds'] as const;

/** Filter fields whose refusal has a message of its own (`printerFilters.error.<field>`). */
const REFUSED = new Map([
  ['filters.maxPages', 'maxPages'],
  ['filters.maxCopies', 'maxCopies'],
  ['filters.maxCost', 'maxCost'],
  ['filters.colour', 'colour'],
  ['filters.sides', 'sides'],
  ['filters.allowedPaperSizes', 'paperSizes'],
  ['filters.documentNames.allow', 'nameAllow'],
  ['filters.documentNames.deny', 'nameDeny'],
  ['filters.duplicateWindowSeconds', 'duplicateWindowSeconds'],
]);

function refusal(err: unknown): string | undefined {
  if (!isQuotientError(err) || err.code !== 'VALIDATION') return undefined;
  const field = String(err.details.field ?? '');
  const known = [...REFUSED.keys()].find((k) => field === k || field.startsWith(`${k}.`));
  return `printerFilters.error.${known === undefined ? 'invalid' : (REFUSED.get(known) ?? 'invalid')}`;
}

const list = (text: string): string[] | undefined => (text === '' ? undefined : text.split(',').map((x) => x.trim()));

function whole(text: string, field: string): number | undefined {
  if (text === '') return undefined;
  if (!/^\d{1,16}$/.test(text)) throw new ValidationError(`${field} is not a whole number`, { field: `filters.${field}` });
  return Number(text);
}

/** Form text -> filters: blank fields are off; the result is validated by parseFilters(). */
export function filtersFromForm(form: FilterForm, decimals: number): PrinterFilters {
  const allow = list(form.nameAllow) ?? [];
  const deny = list(form.nameDeny) ?? [];
  let maxCost: number | undefined;
  if (form.maxCost !== '') {
    try {
      maxCost = parseAmount(form.maxCost, decimals, 'maxCost');
    } catch {
      throw new ValidationError('maxCost is not an amount', { field: 'filters.maxCost' });
    }
  }
  const raw: Record<string, unknown> = {
    maxPages: whole(form.maxPages, 'maxPages'),
    maxCopies: whole(form.maxCopies, 'maxCopies'),
    maxCost,
    colour: form.colour === '' ? undefined : form.colour,
    sides: form.sides === '' ? undefined : form.sides,
    allowedPaperSizes: list(form.paperSizes),
    documentNames: allow.length + deny.length > 0 ? { allow, deny } : undefined,
    duplicateWindowSeconds: whole(form.duplicateWindowSeconds, 'duplicateWindowSeconds'),
  };
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  return parseFilters(raw);
}

function formOf(f: PrinterFilters, decimals: number): FilterForm {
  return {
    maxPages: f.maxPages === undefined ? '' : String(f.maxPages),
    maxCopies: f.maxCopies === undefined ? '' : String(f.maxCopies),
    maxCost: f.maxCost === undefined ? '' : (f.maxCost / 10 ** decimals).toFixed(decimals),
    colour: f.colour ?? '',
    sides: f.sides ?? '',
    paperSizes: (f.allowedPaperSizes ?? []).join(', '),
    nameAllow: (f.documentNames?.allow ?? []).join(', '),
    nameDeny: (f.documentNames?.deny ?? []).join(', '),
    duplicateWindowSeconds: f.duplicateWindowSeconds === undefined ? '' : String(f.duplicateWindowSeconds),
  };
}

/** The filters as catalogue keys with their values, one a line, for the page to show. */
export function filterLines(f: PrinterFilters | null, res: Response): { key: string; value: string }[] {
  if (f === null) return [{ key: 'printerFilters.unreadable', value: '' }];
  const c = webContext(res).currency;
  const lines: { key: string; value: string }[] = [];
  if (f.maxPages !== undefined) lines.push({ key: 'printerFilters.show.maxPages', value: String(f.maxPages) });
  if (f.maxCopies !== undefined) lines.push({ key: 'printerFilters.show.maxCopies', value: String(f.maxCopies) });
  if (f.maxCost !== undefined) lines.push({ key: 'printerFilters.show.maxCost', value: formatAmount(f.maxCost, c) });
  if (f.colour !== undefined) lines.push({ key: `printerFilters.show.${f.colour}`, value: '' });
  if (f.sides !== undefined) lines.push({ key: `printerFilters.show.${f.sides}`, value: '' });
  if (f.allowedPaperSizes !== undefined) lines.push({ key: 'printerFilters.show.paperSizes', value: f.allowedPaperSizes.join(', ') });
  if (f.documentNames && f.documentNames.allow.length > 0) lines.push({ key: 'printerFilters.show.nameAllow', value: f.documentNames.allow.join(', ') });
  if (f.documentNames && f.documentNames.deny.length > 0) lines.push({ key: 'printerFilters.show.nameDeny', value: f.documentNames.deny.join(', ') });
  if (f.duplicateWindowSeconds !== undefined) lines.push({ key: 'printerFilters.show.duplicateWindow', value: String(f.duplicateWindowSeconds) });
  return lines;
}

export function adminPrinterRoutes(deps: WebDeps): Router {
  const r = Router();
  const registry = deps.services.printers;
  const decimals = (res: Response): number => webContext(res).currency.decimals;

  const printerOf = async (raw: string | undefined): Promise<PrinterInfo> => {
    const id = /^\d{1,12}$/.test(raw ?? '') ? Number(raw) : -1;
    const p = (await registry.list()).find((x) => x.id === id);
    if (!p) throw new ValidationError('not a printer', { field: 'id' });
    return p;
  };

  const show = (res: Response, p: PrinterInfo, form: FilterForm, opts: { error?: string; saved?: boolean } = {}): void => {
    const choice = (values: string[], selected: string, prefix: string) =>
      values.map((v) => ({ value: v, key: `${prefix}.${v || 'any'}`, selected: v === selected }));
    page(
      deps,
      res,
      'admin-printer-filters',
      {
        title: 'printerFilters.title',
        admin: 'printers',
        printer: { id: p.id, name: `${p.serverName}/${p.queueName}`, displayName: p.displayName },
        lines: filterLines(p.filters, res),
        form,
        colours: choice(['', 'colourOnly', 'greyscaleOnly'], form.colour, 'printerFilters.colour'),
        sides: choice(['', 'duplexOnly', 'simplexOnly'], form.sides, 'printerFilters.sides'),
        error: opts.error ?? null,
        saved: opts.saved === true,
      },
      opts.error === undefined ? 200 : 400,
    );
  };

  r.get('/:id/filters', async (req, res) => {
    const p = await printerOf(req.params.id);
    show(res, p, formOf(p.filters ?? {}, decimals(res)), { saved: req.query.saved === '1' });
  });

  r.post('/:id/filters', async (req, res) => {
    const p = await printerOf(req.params.id);
    const body = req.body as Record<string, unknown>;
    const form = Object.fromEntries(FIELDS.map((f) => [f, typeof body[f] === 'string' ? body[f].trim().slice(0, 4000) : ''])) as FilterForm;
    try {
      await registry.update(p.id, { filters: filtersFromForm(form, decimals(res)) }, currentUser(res).user.username);
    } catch (err) {
      const key = refusal(err);
      if (key === undefined) throw err;
      return show(res, p, form, { error: key });
    }
    res.redirect(303, `/admin/printers/${p.id}/filters?saved=1`);
  });

  return r;
}
