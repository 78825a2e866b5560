/**
 * Wall-clock times as text, worked out from epoch milliseconds with arithmetic alone. Node's
 * first formatting of a `Date` pages in about 8 MB of the node binary (V8's date and time-zone
 * data) that an idle sidecar otherwise never touches; the log timestamps and the HTTP `Date`
 * header are the only dates it writes, so they are formatted here instead. Both give exactly
 * what `Date` gives (`toISOString`, `toUTCString`) for years 0 to 9999; outside them, `Date` does it.
 */

const DAY_MS = 86_400_000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z. */
const FIRST_MS = -62_167_219_200_000;
const END_MS = 253_402_300_800_000;

interface Fields {
  year: number;
  /** 1 to 12. */
  month: number;
  day: number;
  /** 0 (Sunday) to 6. */
  weekday: number;
  hours: number;
  minutes: number;
  seconds: number;
  ms: number;
}

/** The UTC calendar fields of a time (the proleptic Gregorian calendar, as `Date` uses). */
function fieldsOf(time: number): Fields {
  const days = Math.floor(time / DAY_MS);
  const msOfDay = time - days * DAY_MS;
  // Days to civil date (H. Hinnant's algorithm): eras of 400 years starting on March 1st.
  const shifted = days + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  return {
    year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day: dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1,
    // 1970-01-01 was a Thursday.
    weekday: (((days + 4) % 7) + 7) % 7,
    hours: Math.floor(msOfDay / 3_600_000),
    minutes: Math.floor(msOfDay / 60_000) % 60,
    seconds: Math.floor(msOfDay / 1000) % 60,
    ms: msOfDay % 1000,
  };
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');
const inRange = (time: number) => Number.isInteger(time) && time >= FIRST_MS && time < END_MS;

/** `2026-12-06T10:38:32.575Z`, as `new Date(time).toISOString()`. */
export function isoTime(time: number): string {
  if (!inRange(time)) return new Date(time).toISOString();
  const f = fieldsOf(time);
  return `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}T${pad(f.hours)}:${pad(f.minutes)}:${pad(f.seconds)}.${pad(f.ms, 3)}Z`;
}

let lastSecond = Number.NaN;
let lastHttpDate = '';

/** `Sun, 06 Dec 2026 10:38:32 GMT` (RFC 9110's IMF-fixdate), as `new Date(time).toUTCString()`. */
export function httpDate(time: number): string {
  const second = Math.floor(time / 1000);
  if (second === lastSecond) return lastHttpDate;
  if (!inRange(time)) return new Date(time).toUTCString();
  const f = fieldsOf(time);
  lastSecond = second;
  lastHttpDate = `${WEEKDAYS[f.weekday]}, ${pad(f.day)} ${MONTHS[f.month - 1]} ${pad(f.year, 4)} ${pad(f.hours)}:${pad(f.minutes)}:${pad(f.seconds)} GMT`;
  return lastHttpDate;
}
