/**
 * Top-up card numbers: 19 random decimal digits from the operating system's CSPRNG and one Damm
 * check digit, shown in four groups of five (`12345-67890-12345-67890`).
 *
 * Why 19 random digits: 10^19 (about 2^63) numbers. With a million cards outstanding and the
 * redemption throttle (card-throttle.ts) holding each user to a few dozen wrong guesses a day and
 * each address to a few hundred, even ten thousand accounts guessing for a year (~10^8 guesses)
 * find a card with a chance of about 10^-5.
 *
 * Why Damm rather than Luhn: Damm's check digit catches every single-digit error and every swap
 * of two adjacent digits; Luhn misses the swap 09 <-> 90. Both are one digit and need no letters.
 * A number that fails its check digit is reported as mistyped, which helps the person typing it.
 *
 * What people type is normalised before it is looked up: spaces and dashes are dropped and
 * letters capitalised, so `12345 67890-12345 67890` finds the card. Imported numbers (printed by
 * another system) may have any form of 6 to 32 digits and capital letters; only numbers in this
 * module's own form (20 digits) are held to the check digit.
 */
import crypto from 'node:crypto';

export const RANDOM_DIGITS = 19;
export const NUMBER_LENGTH = RANDOM_DIGITS + 1;
const GROUP = 5;

/** The Damm quasigroup of order 10 (Damm 2004), as used by every implementation. */
const DAMM = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
  [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
  [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
  [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
  [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
  [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
  [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
] as const;

/** The Damm check digit of a string of decimal digits. */
export function dammDigit(digits: string): number {
  let interim = 0;
  for (const c of digits) interim = DAMM[interim]?.[Number(c)] ?? 0;
  return interim;
}

/** Whether a string of decimal digits ends with its correct Damm check digit. */
export function dammValid(digits: string): boolean {
  return /^\d+$/.test(digits) && dammDigit(digits) === 0;
}

/** A new card number (20 digits, ungrouped). */
export function newCardNumber(): string {
  // Rejection sampling over bytes keeps every digit uniform (256 is not a multiple of 10).
  let digits = '';
  while (digits.length < RANDOM_DIGITS) {
    for (const b of crypto.randomBytes(RANDOM_DIGITS)) {
      if (b < 250 && digits.length < RANDOM_DIGITS) digits += String(b % 10);
    }
  }
  return digits + String(dammDigit(digits));
}

/** What a person typed, as stored: spaces and dashes dropped, letters in capitals. */
export function normaliseCardNumber(typed: string): string {
  return typed.replace(/[\s-]+/g, '').toUpperCase();
}

/** Whether a normalised number could be a card at all (6 to 32 digits and capital letters). */
export function plausibleCardNumber(normalised: string): boolean {
  return /^[0-9A-Z]{6,32}$/.test(normalised);
}

/** Whether a normalised number is in this module's own form but fails its check digit: a typing mistake. */
export function mistyped(normalised: string): boolean {
  return normalised.length === NUMBER_LENGTH && /^\d+$/.test(normalised) && !dammValid(normalised);
}

/** A number grouped for reading: `12345-67890-12345-67890` (other lengths in groups of five too). */
export function groupCardNumber(number: string): string {
  return number.match(new RegExp(`.{1,${GROUP}}`, 'g'))?.join('-') ?? number;
}
