/** The helpers every template may use, by name (one file each). */
import { date } from './date';
import { eq } from './eq';
import { megabytes } from './megabytes';
import { number } from './number';
import { percent } from './percent';
import { t } from './t';

export const HELPERS = { t, date, eq, number, megabytes, percent } as const;
