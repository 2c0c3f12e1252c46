/** Money is stored as integer minor units (poisha); the API shows major units without float drift. */
export const DEFAULT_CURRENCY = 'BDT';

export function toMinor(major: number): number {
  // Round through a string so 1500.55 * 100 does not become 150054.99999.
  return Math.round(Number(`${major}e2`));
}

export function toMajor(minor: number): number {
  return Number((minor / 100).toFixed(2));
}

/** True when `major` has at most two decimals. */
export function hasAtMostTwoDecimals(major: number): boolean {
  return Number.isFinite(major) && Math.abs(toMinor(major) - Number(`${major}e2`)) < 1e-6;
}
