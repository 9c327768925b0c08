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

/** Per zone, a stretch of instants known to fall on one day: most calls ask about the current one. */
const known = new Map<string, { readonly from: number; readonly until: number; readonly day: string }>();

/** `YYYY-MM-DD` of the instant `now` (epoch ms) in `timeZone`. */
export function dayOf(now: number, timeZone: string): string {
  const stretch = known.get(timeZone);
  if (stretch !== undefined && now >= stretch.from && now < stretch.until) return stretch.day;
  return formatFor(timeZone).format(new Date(now));
}

/** Remembers the day of `now` up to its end, so that `dayOf` answers without formatting (it runs on every turn). */
function remember(now: number, timeZone: string, day: string, until: number): void {
  const stretch = known.get(timeZone);
  if (stretch === undefined || now >= stretch.until || until > stretch.until)
    known.set(timeZone, { from: now, until, day });
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
  remember(now, timeZone, today, high);
  return high;
}

/** `dayOf(now)`, and the days after it answered without formatting until that day ends. */
export function currentDay(now: number, timeZone: string): string {
  const stretch = known.get(timeZone);
  // Finding where today ends remembers today: `dayOf` then answers from memory.
  if (stretch === undefined || now < stretch.from || now >= stretch.until) nextDayStart(now, timeZone);
  return dayOf(now, timeZone);
}
