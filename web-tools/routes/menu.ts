/**
 * How a family of pages says which paths it answers and which links it puts in the menus, next
 * to its routes (user.ts, admin.ts, auth.ts): the route index (index.ts) claims the paths for the
 * web tools and page() hands the menus to the header and admin-nav partials, which only loop over
 * them. So a new page in a family is its route, its view and its messages, and a new family is
 * one more entry in index.ts's FAMILIES.
 */
import type { Router } from 'express';

/** A link in the main menu (header) or the admin menu. `id` is what a page passes as `nav` (or `admin`) to mark it current. */
export interface MenuLink {
  id: string;
  href: string;
  /** The catalogue key of its text. */
  label: string;
  /** Shown only to administrators, or only while transfers are on. */
  onlyIf?: 'admin' | 'transfers';
}

export interface PageFamily<D> {
  /** Paths the family answers: '/jobs' claims /jobs and everything under /jobs/. */
  paths: readonly string[];
  mainMenu?: readonly MenuLink[];
  adminMenu?: readonly MenuLink[];
  /** Its router, mounted at '/' (the paths inside are the full paths). */
  routes: (deps: D) => Router;
}

export interface Menus {
  main: readonly MenuLink[];
  admin: readonly MenuLink[];
}

/** The menus of the signed-in user (what they may see), with the current page's link marked. */
export function shownMenus(
  menus: Menus,
  me: { isAdmin: boolean; transfers: boolean },
  current: { nav?: unknown; admin?: unknown },
): Record<keyof Menus, (MenuLink & { current: boolean })[]> {
  const visible = (l: MenuLink): boolean => (l.onlyIf === 'admin' ? me.isAdmin : l.onlyIf === 'transfers' ? me.transfers : true);
  // Every admin page marks the main menu's admin link, whichever admin page it is.
  const mainId = current.admin !== undefined ? 'admin' : current.nav;
  return {
    main: menus.main.filter(visible).map((l) => ({ ...l, current: l.id === mainId })),
    admin: menus.admin.filter(visible).map((l) => ({ ...l, current: l.id === current.admin })),
  };
}
