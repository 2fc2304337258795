import type { ReconciliationReport, ReportedDiscrepancy } from './reconcile.js';

/** A run's report as an operator reads it in a terminal (`npm run reconcile`). */
export function reportText(report: ReconciliationReport): string {
  const line = (d: ReportedDiscrepancy) => {
    const action = d.action.kind === 'none' ? `— ${String(d.action.why)}` : `→ ${Object.entries(d.action).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`;
    return `  ${d.kind.padEnd(27)} order ${d.order_id ?? '-'}  payment ${d.payment_id ?? '-'}  ${action}`;
  };
  return [
    `reconciliation ${report.run_id}: ${report.status}, window ${report.window.since} → ${report.window.until}, ${(report.duration_ms / 1000).toFixed(1)} s`,
    ...(report.error ? [`  stopped early: ${report.error} (the next run covers this window again)`] : []),
    `checked: ${report.checked.provider_payments} provider payments, ${report.checked.provider_refunds} provider refunds, ${report.checked.local_payments} payment rows`,
    `healed: ${report.healed.length}`,
    ...report.healed.map(line),
    `needs a person: ${report.needs_attention.length}`,
    ...report.needs_attention.map(line),
    `waiting for the grace period: ${report.pending}; earlier ones no longer found: ${report.resolved}`,
  ].join('\n');
}
