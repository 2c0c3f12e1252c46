import { stringify } from 'csv-stringify/sync';
import type { ManifestEntry } from './schemas.js';

const HEADER = ['Booking ID', 'Traveller', 'Phone', 'Email', 'Guests', 'Checked in at', 'Checked in by'];

/**
 * A cell a spreadsheet would read as a formula (= + - @, or a leading tab or carriage return) gets a leading
 * single quote, so opening a manifest never runs what a traveller typed as their name.
 */
export const neutraliseFormula = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

/**
 * The manifest as CSV (RFC 4180: CRLF line ends, quoted where needed), with a header row and a byte-order mark
 * so that spreadsheet programs read non-Latin names as UTF-8.
 */
export function manifestCsv(entries: ManifestEntry[]): string {
  const rows = entries.map((e) => [
    e._id,
    e.name,
    e.phone ?? '',
    e.email,
    e.guests,
    e.checkedInAt ?? '',
    e.checkedInBy?.name ?? '',
  ]);
  return stringify([HEADER, ...rows], {
    bom: true,
    record_delimiter: 'windows',
    cast: { string: neutraliseFormula },
  });
}
