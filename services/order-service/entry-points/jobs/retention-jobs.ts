import { pruneJob } from '../../../../shared/db/prune-job.js';
import type { Pool } from '../../../../shared/db/pool.js';
import { deadLetterPrune } from '../../../../shared/dead-letters/dead-letter-prune.js';
import { queueName } from '../../../../shared/jobs/job-names.js';
import type { JobDefinition } from '../../../../shared/jobs/job-runner.js';
import { pruneCron } from '../../../../shared/jobs/prune-schedule.js';
import { idempotencyKeyClear, orderHistoryPrune } from '../../data-access/retention-statements.js';
import { orderRetryPrune } from '../../data-access/retry-repository.js';
import type { OrderRetention } from '../../retention-config.js';

/**
 * order-service's prunes, besides the outbox and inbox ones every service has: the history of
 * orders long ended, the retries services reported long ago, the Idempotency-Key hashes of orders past twice the key's TTL, and the
 * dead letters someone handled long ago (the archive order-service hosts, on its own pool).
 */
export function orderRetentionJobs(
  service: string,
  pools: { orders: Pool; deadLetters: Pool },
  retention: OrderRetention,
): JobDefinition<object>[] {
  const cron = (name: string) => pruneCron(retention.intervalMs, queueName(service, name));
  return [
    pruneJob({ name: 'order-history-prune', cron: cron('order-history-prune'), pool: pools.orders, statement: orderHistoryPrune(retention.historyMs) }),
    // The retries services reported are part of an order's trace: kept as long as its history.
    pruneJob({ name: 'order-retry-prune', cron: cron('order-retry-prune'), pool: pools.orders, statement: orderRetryPrune(retention.historyMs) }),
    pruneJob({
      name: 'idempotency-key-prune',
      cron: cron('idempotency-key-prune'),
      pool: pools.orders,
      statement: idempotencyKeyClear(retention.idempotencyKeyMs),
      counted: 'cleared',
    }),
    pruneJob({ name: 'dead-letter-prune', cron: cron('dead-letter-prune'), pool: pools.deadLetters, statement: deadLetterPrune(retention.deadLetterMs) }),
  ];
}
