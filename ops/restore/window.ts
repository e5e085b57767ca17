/**
 * "Weekly restore test" (RUNBOOK.md, Backup and restore drill, step 3): a drill belongs to one ISO
 * week. The RestoreDrill resource carries it as `window`, so a new week replaces the resource and
 * the drill runs again.
 */

/** The ISO 8601 week of a moment, in UTC, e.g. "2025-W01" for 2024-12-30. */
export function isoWeek(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new Error("isoWeek needs a valid date");
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  // The ISO week-numbering year is the year of the week's Thursday.
  const weekday = day.getUTCDay() === 0 ? 7 : day.getUTCDay();
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

export const ISO_WEEK = /^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/;
