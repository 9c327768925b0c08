/** Calendar days in the configured time zone (free quotas renew at its midnight). */

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    formats.set(timeZone, format);
  }
  return format;
}

/** `YYYY-MM-DD` of the instant `now` (epoch ms) in `timeZone`. */
export function dayOf(now: number, timeZone: string): string {
  return formatFor(timeZone).format(new Date(now));
}

/** True when `timeZone` is a zone this runtime knows (for configuration checks). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The first instant (epoch ms) after `now` that falls on the next day in `timeZone`. */
export function nextDayStart(now: number, timeZone: string): number {
  const today = dayOf(now, timeZone);
  // Days are 23 to 25 hours long: step by hours, then bisect to the millisecond.
  let probe = now;
  while (dayOf(probe, timeZone) === today) probe += 3_600_000;
  let low = probe - 3_600_000;
  let high = probe;
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2);
    if (dayOf(middle, timeZone) === today) low = middle;
    else high = middle;
  }
  return high;
}
