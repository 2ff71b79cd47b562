/**
 * When a transaction happened: an ISO 8601 date-time with a zone, a real calendar day of
 * 2000–2099, stored as a UTC instant in DATETIME(3). The one regular expression below is the
 * whole rule, so the API contract (its `pattern`) and the validator can never disagree: it spells
 * out month lengths and leap years, and keeps the instant inside [2000, 2100) UTC by refusing a
 * positive offset on 2000-01-01 and a negative one on 2099-12-31 (those could cross the edge).
 */
const MONTH_31 = '(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])';
const MONTH_30 = '(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)';
const FEBRUARY = '02-(?:0[1-9]|1[0-9]|2[0-8])';
const MONTH_DAY = `(?:${MONTH_31}|${MONTH_30}|${FEBRUARY})`;
const LEAP_DAY = '20(?:0[048]|[2468][048]|[13579][26])-02-29';
const ANY_DAY = `(?:20[0-9]{2}-${MONTH_DAY}|${LEAP_DAY})`;
/** Every day but 2000-01-01. */
const NOT_FIRST_DAY = `(?:20(?:0[1-9]|[1-9][0-9])-${MONTH_DAY}|2000-(?:01-(?:0[2-9]|[12][0-9]|3[01])|(?:0[3578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|${MONTH_30}|${FEBRUARY})|${LEAP_DAY})`;
/** Every day but 2099-12-31. */
const NOT_LAST_DAY = `(?:20(?:[0-8][0-9]|9[0-8])-${MONTH_DAY}|2099-(?:(?:0[13578]|10)-(?:0[1-9]|[12][0-9]|3[01])|12-(?:0[1-9]|[12][0-9]|30)|${MONTH_30}|${FEBRUARY})|${LEAP_DAY})`;
const TIME = 'T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?';
const OFFSET = '(?:[01][0-9]|2[0-3]):[0-5][0-9]';

export const OCCURRED_AT_PATTERN = new RegExp(`^(?:${ANY_DAY}${TIME}(?:Z|[+-]00:00)|${NOT_FIRST_DAY}${TIME}\\+${OFFSET}|${NOT_LAST_DAY}${TIME}-${OFFSET})$`);

export const OCCURRED_AT_RULE =
  'must be an ISO 8601 date-time with a zone (Z or ±HH:MM) on a real day of 2000-2099 (no positive offset on 2000-01-01, no negative one on 2099-12-31)';

const DIGIT_0 = 48;
/** The number of `length` ASCII digits at `at` in `v`, or -1 if one is not a digit. */
function digitsAt(v: string, at: number, length: number): number {
  let n = 0;
  for (let i = at; i < at + length; i++) {
    const d = v.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** A real calendar day (leap years included) and time of day; fields as numbers, -1 for an unreadable one. */
function isRealCalendarTime(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  if (year < 0 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= daysInMonth && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59;
}

/**
 * An instant already in the form the schema normalises to (`YYYY-MM-DDTHH:MM:SS.mmmZ`, a real
 * date and time of day in 2000–2099): the output is the string itself, so no regular expression
 * runs and no Date is parsed or rendered. Producers that stamp with toISOString() send this form.
 */
function isCanonicalInstant(v: string): boolean {
  if (v.length !== 24 || v[4] !== '-' || v[7] !== '-' || v[10] !== 'T' || v[13] !== ':' || v[16] !== ':' || v[19] !== '.' || v[23] !== 'Z') return false;
  const year = digitsAt(v, 0, 4);
  if (year < 2000 || year > 2099 || digitsAt(v, 20, 3) < 0) return false;
  return isRealCalendarTime(year, digitsAt(v, 5, 2), digitsAt(v, 8, 2), digitsAt(v, 11, 2), digitsAt(v, 14, 2), digitsAt(v, 17, 2));
}

/** The UTC instant (toISOString form) of an accepted value; the caller has checked OCCURRED_AT_PATTERN. */
export function toUtcInstant(v: string): string {
  return new Date(Date.parse(v)).toISOString();
}

/** The normalised instant of an accepted input, or null when the input is refused. */
export function normalisedInstant(at: unknown): string | null {
  if (typeof at !== 'string') return null;
  if (isCanonicalInstant(at)) return at;
  return OCCURRED_AT_PATTERN.test(at) ? toUtcInstant(at) : null;
}
