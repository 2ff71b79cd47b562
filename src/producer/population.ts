import { createRandom } from '../domain/random';

/**
 * The accounts of the synthetic retail bank (docs/traffic-model.md): how many there are, how
 * active each one is, its habits, and the bank's daily rhythm. Pure and seeded.
 */

export function accountName(index: number): string {
  return `acc-${String(index + 1).padStart(6, '0')}`;
}

/**
 * Share of the day's transactions in each UTC hour, relative to the mean (the values average 1):
 * quiet nights, a morning rise, a lunch peak and an evening peak, as card networks report.
 */
const HOURLY_SHAPE = [0.22, 0.14, 0.1, 0.09, 0.11, 0.22, 0.5, 0.9, 1.25, 1.4, 1.45, 1.55, 1.75, 1.6, 1.45, 1.45, 1.55, 1.75, 1.7, 1.5, 1.25, 0.95, 0.7, 0.4];
const SHAPE_MEAN = HOURLY_SHAPE.reduce((s, x) => s + x, 0) / HOURLY_SHAPE.length;
const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The bank's activity at an instant relative to its daily mean, interpolated between hours. */
export function rhythmAt(ms: number): number {
  const hours = (((ms % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  const h = Math.floor(hours);
  const next = HOURLY_SHAPE[(h + 1) % 24] as number;
  const here = HOURLY_SHAPE[h] as number;
  return (here + (next - here) * (hours - h)) / SHAPE_MEAN;
}

/**
 * Transactions per account and day: log-normal (median 3, σ 1.1 in ln), cut into equal-population
 * classes. Most customers pay a few times a day; the busiest class (sole traders, families paying
 * for everyone) about fifty times; nobody makes several payments a minute.
 */
const ACTIVITY_CLASSES = 16;
const ACTIVITY_MEDIAN_PER_DAY = 3;
const ACTIVITY_SIGMA = 1.1;

/** Inverse of the standard normal CDF (Acklam's rational approximation; ample for class midpoints). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Daily transactions of each activity class (its population quantile's midpoint). */
export const CLASS_DAILY_RATES: ReadonlyArray<number> = Array.from({ length: ACTIVITY_CLASSES }, (_, k) =>
  ACTIVITY_MEDIAN_PER_DAY * Math.exp(ACTIVITY_SIGMA * normalQuantile((k + 0.5) / ACTIVITY_CLASSES)),
);
export const MEAN_DAILY_RATE = CLASS_DAILY_RATES.reduce((s, r) => s + r, 0) / ACTIVITY_CLASSES;

/** The smallest population the default sizing produces (a tiny rate still spreads over many accounts). */
const POPULATION_MIN = 1_000;

/**
 * Accounts a bank needs to send `ratePerSec` transactions a second at instant `atMs` (its daily
 * rhythm): at 2,000 a second around noon about twenty million, as a large retail bank.
 */
export function populationFor(ratePerSec: number, atMs: number): number {
  const perAccountPerSec = (MEAN_DAILY_RATE * rhythmAt(atMs)) / 86_400;
  return Math.max(POPULATION_MIN, Math.round(ratePerSec / perAccountPerSec));
}

/**
 * Picks the account of the next transaction with probability proportional to its activity: an
 * activity class by its share of all transactions, then a member of it. Members of a class are
 * spread over the account numbers by a fixed permutation, so a name says nothing about activity.
 * O(classes) memory whatever the population: twenty million accounts cost nothing up front.
 */
export function createAccountPicker(accounts: number, random: () => number): () => number {
  const starts = Array.from({ length: ACTIVITY_CLASSES + 1 }, (_, k) => Math.ceil((k * accounts) / ACTIVITY_CLASSES));
  const cumulative: number[] = [];
  let total = 0;
  for (let k = 0; k < ACTIVITY_CLASSES; k++) {
    total += ((starts[k + 1] as number) - (starts[k] as number)) * (CLASS_DAILY_RATES[k] as number);
    cumulative.push(total);
  }
  const stride = permutationStride(accounts);
  return () => {
    const target = random() * total;
    let k = 0;
    while ((cumulative[k] as number) <= target && k < ACTIVITY_CLASSES - 1) k++;
    const lo = starts[k] as number;
    const hi = starts[k + 1] as number;
    const slot = lo + Math.floor(random() * (hi - lo));
    return (slot * stride) % accounts;
  };
}

/** A stride coprime with the population: slot × stride mod accounts visits every account once. */
function permutationStride(accounts: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let stride = 1_000_003;
  while (gcd(stride, accounts) !== 1) stride += 2;
  return stride % accounts || 1;
}

/** An account's habits, the same every time it is asked for (derived from the seed and the index). */
export interface Profile {
  /** Typical card payment, minor units. */
  spendScale: number;
  /** Regular payees (family, friends, a gym), by account index. */
  payees: number[];
  landlord: number;
  salary: number;
  rent: number;
}

export function profileOf(seed: number, accounts: number, index: number): Profile {
  const r = createRandom((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const spendScale = Math.round(Math.exp(Math.log(800) + r() * Math.log(7.5)));
  const payees: number[] = [];
  for (let i = 0; i < 3; i++) {
    const payee = Math.floor(r() * accounts);
    if (payee !== index) payees.push(payee);
  }
  const landlord = Math.floor(r() * accounts);
  const salary = Math.round(150_000 + r() * 450_000);
  return { spendScale, payees, landlord, salary, rent: Math.round(spendScale * (6 + r() * 9)) };
}
