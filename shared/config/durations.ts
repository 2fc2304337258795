/** `90s`, `5m`, `1h`, `2d` (or `500ms`) → milliseconds; a bare integer is seconds. */
export function parseDuration(text: string): number | null {
  const match = /^(\d{1,9})(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return null;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/**
 * A period → the cron expression (UTC) that ticks at it: whole minutes that divide an hour
 * (`5m` → `*\/5 * * * *`) or whole hours that divide a day (`6h` → `0 *\/6 * * *`); null for any
 * other period, which no cron expression ticks at evenly.
 */
export function cronEvery(ms: number): string | null {
  const minutes = ms / 60_000;
  if (Number.isInteger(minutes) && minutes >= 1 && minutes <= 60 && 60 % minutes === 0) {
    return minutes === 60 ? '0 * * * *' : `*/${minutes} * * * *`;
  }
  const hours = ms / 3_600_000;
  if (Number.isInteger(hours) && hours >= 1 && hours <= 24 && 24 % hours === 0) return hours === 24 ? '0 0 * * *' : `0 */${hours} * * *`;
  return null;
}
