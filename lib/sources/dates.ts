// Dates as the sources write them, turned into ISO 8601.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// X archive and API v1.1: "Sat Aug 12 16:10:37 +0000 2023".
const TWITTER_DATE = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/;

/** Parses X's `created_at` ("Sat Aug 12 16:10:37 +0000 2023") to ISO, or undefined if it is not one. */
export function parseTwitterDate(text: string): string | undefined {
  const match = TWITTER_DATE.exec(text);
  if (!match) return undefined;
  const [, month, day, hours, minutes, seconds, sign, offsetHours, offsetMinutes, year] = match;
  const monthIndex = MONTHS.indexOf(month!);
  if (monthIndex < 0) return undefined;
  const local = Date.UTC(Number(year), monthIndex, Number(day), Number(hours), Number(minutes), Number(seconds));
  const offset = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  return new Date(local - offset).toISOString();
}

/**
 * A date from a local file or an API: X's format, or anything ISO-like that
 * `Date` reads. Undefined when it cannot be read (the caller says where).
 */
export function toIsoDate(text: string): string | undefined {
  const twitter = parseTwitterDate(text.trim());
  if (twitter) return twitter;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}
