/**
 * Timestamps. Prisma's SQLite connector stores DateTime as epoch milliseconds (INTEGER); rows
 * written by raw SQL or `DEFAULT CURRENT_TIMESTAMP` hold text ("2024-05-01 12:00:00", UTC by
 * SQLite's definition, or ISO 8601 with an offset). Both become one UTC instant, as whole seconds
 * plus microseconds (both exact in a double), never through a lossy Date.
 */

/** An instant: seconds since the epoch and the microseconds within that second (0-999999). */
export interface Instant {
  seconds: number;
  micros: number;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp + (mp < 10 ? 3 : -9);
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** The instant of an ISO 8601 / SQLite date-time text (no zone means UTC); throws on anything else. */
export function parseTimestampText(text: string): Instant {
  const match = TIMESTAMP_TEXT.exec(text.trim());
  if (!match) throw new Error("expected ISO 8601 (YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z|+HH:MM]) with at most microseconds");
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > (daysInMonth[month - 1] ?? 0)) throw new Error("no such calendar date");
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw new Error("no such time of day");
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0"));
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(s) - offsetMinutes * 60;
  return { seconds, micros: Number(frac.padEnd(6, "0") || "0") };
}

export function instantFromEpochMillis(ms: number): Instant {
  const seconds = Math.floor(ms / 1000);
  return { seconds, micros: (ms - seconds * 1000) * 1000 };
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : String(n)));
const pad2 = (n: number) => TWO_DIGITS[n] ?? String(n);

/** timestamp_out with DateStyle ISO: "YYYY-MM-DD HH:MM:SS[.fraction without trailing zeros]" in UTC. */
export function formatInstant(instant: Instant): string {
  const days = Math.floor(instant.seconds / 86400);
  const secondsOfDay = instant.seconds - days * 86400;
  const time = `${pad2(Math.floor(secondsOfDay / 3600))}:${pad2(Math.floor(secondsOfDay / 60) % 60)}:${pad2(secondsOfDay % 60)}`;
  const fraction = instant.micros === 0 ? "" : `.${String(instant.micros).padStart(6, "0").replace(/0+$/, "")}`;
  return `${dateText(days)} ${time}${fraction}`;
}

let lastDays = Number.NaN;
let lastDate = "";

/** "YYYY-MM-DD" of a day number; consecutive rows mostly share a day, so the last one is kept. */
function dateText(days: number): string {
  if (days === lastDays) return lastDate;
  const { year, month, day } = civilFromDays(days);
  if (year < 1 || year > 9999) throw new Error(`year ${year} is outside 0001-9999`);
  lastDays = days;
  lastDate = `${String(year).padStart(4, "0")}-${pad2(month)}-${pad2(day)}`;
  return lastDate;
}
