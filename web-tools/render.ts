/**
 * The web tools' view engine: Handlebars templates from views/ (pages) and partials/, compiled
 * once and cached, except under NODE_ENV=development, where they are re-read on every render so
 * edits show at once. Caching is the default so that a primary started without NODE_ENV (the
 * systemd unit, `quotient primary`) never reads and compiles templates per request.
 * Every page is rendered into views/layout.hbs. Handlebars escapes every {{value}}; the only
 * triple-stash is the layout's {{{body}}}, which is this engine's own escaped output.
 */
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { HELPERS } from './helpers';

/** The web-tools source folder, from the sources (tsx) or from a build in dist/. */
export function webToolsDir(): string {
  const candidates = [__dirname, path.resolve(__dirname, '../../web-tools')];
  return candidates.find((d) => fs.existsSync(path.join(d, 'views', 'layout.hbs'))) ?? __dirname;
}

export type Renderer = (view: string, context: Record<string, unknown>) => string;

/** Whether templates are cached when nobody says: always, except under NODE_ENV=development. */
export function cacheTemplatesByDefault(nodeEnv: string | undefined = process.env.NODE_ENV): boolean {
  return nodeEnv !== 'development';
}

export function createRenderer(opts: { cache: boolean; dir?: string }): Renderer {
  const dir = opts.dir ?? webToolsDir();
  const load = (): Map<string, Handlebars.TemplateDelegate> => {
    const hbs = Handlebars.create();
    for (const [name, fn] of Object.entries(HELPERS)) hbs.registerHelper(name, fn as Handlebars.HelperDelegate);
    for (const file of fs.readdirSync(path.join(dir, 'partials')).filter((f) => f.endsWith('.hbs'))) {
      hbs.registerPartial(file.slice(0, -4), fs.readFileSync(path.join(dir, 'partials', file), 'utf8'));
    }
    const views = new Map<string, Handlebars.TemplateDelegate>();
    for (const file of fs.readdirSync(path.join(dir, 'views')).filter((f) => f.endsWith('.hbs'))) {
      views.set(file.slice(0, -4), hbs.compile(fs.readFileSync(path.join(dir, 'views', file), 'utf8'), { strict: false, noEscape: false }));
    }
    return views;
  };
  let cached = opts.cache ? load() : undefined;
  return (view, context) => {
    const views = cached ?? load();
    if (opts.cache) cached = views;
    const page = views.get(view);
    const layout = views.get('layout');
    if (!page || !layout) throw new Error(`no such view: ${view}`);
    return layout({ ...context, body: page(context) });
  };
}
