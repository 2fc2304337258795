/** An order's status as a coloured badge with its word (colour is never the only signal). */
export function StatusBadge({ status, reason }: { status: string; reason?: string | null }) {
  return (
    <span class={`badge badge-${status}`} title={reason ? `${status}: ${reason}` : status}>
      {status}
      {reason ? ` · ${reason.replace(/_/g, ' ')}` : ''}
    </span>
  );
}
