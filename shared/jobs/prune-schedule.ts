/**
 * The cron expression (UTC) of a prune that runs every `intervalMs` (whole minutes dividing an
 * hour, or whole hours dividing a day), at a minute of its own within that period, taken from its
 * queue's name: the prunes of the services and their tables do not all start at the same moment.
 * Throws for any other period (the schema's RETENTION_INTERVAL_PATTERN admits none).
 */
export function pruneCron(intervalMs: number, queue: string): string {
  let minute = 0;
  for (const char of queue) minute = (minute * 31 + char.charCodeAt(0)) % 60;
  const minutes = intervalMs / 60_000;
  if (Number.isInteger(minutes) && minutes >= 1 && minutes < 60 && 60 % minutes === 0) {
    return minutes === 1 ? '* * * * *' : `${minute % minutes}-59/${minutes} * * * *`;
  }
  const hours = intervalMs / 3_600_000;
  if (Number.isInteger(hours) && hours >= 1 && hours <= 24 && 24 % hours === 0) {
    if (hours === 1) return `${minute} * * * *`;
    return hours === 24 ? `${minute} 0 * * *` : `${minute} */${hours} * * *`;
  }
  throw new Error(`no cron expression runs every ${intervalMs} ms evenly`);
}
