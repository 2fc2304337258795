import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAGA_SERVICES } from '../../shared/contracts/saga.js';
import { LANES, topologyNames } from '../../shared/messaging/topology-names.js';
import { RabbitCluster } from '../support/rabbit-cluster.js';
import { waitFor } from '../support/wait-for.js';
import { FaultRun } from './fault-run.js';

const CLUSTER_SIZE = 3;
/** The killed node stays down at least this long, so a stretch of the load runs on the survivors alone. */
const MIN_DOWN_MS = 8_000;
/** ... and at most this long while the first saga on the survivors is awaited. */
const MAX_DOWN_MS = 45_000;

let cluster: RabbitCluster | undefined;
let clusterStartSeconds = 0;

// Registered before the fault run's hooks: the cluster starts before the stack and stops after it.
beforeAll(async () => {
  const started = Date.now();
  cluster = await RabbitCluster.start({ size: CLUSTER_SIZE });
  clusterStartSeconds = (Date.now() - started) / 1000;
}, 150_000);
afterAll(async () => {
  await cluster?.stop();
}, 90_000);

const run = FaultRun.forFile({}, { stack: () => ({ amqpUrl: theCluster().amqpUrl }) });

function theCluster(): RabbitCluster {
  if (!cluster) throw new Error('the cluster has not started');
  return cluster;
}

/** When (epoch ms) the first order placed after `since` completed, once one has. */
async function firstCompletionAfter(since: number, timeoutMs: number): Promise<number> {
  return waitFor(
    async () => {
      const { rows } = await run.stack.db.query<{ at: Date | null }>(
        `SELECT min(updated_at) AS at FROM ${run.stack.table('order-service', 'orders')}
         WHERE status = 'completed' AND created_at > to_timestamp($1::double precision / 1000)`,
        [since],
      );
      return rows[0]?.at?.getTime();
    },
    { timeoutMs, intervalMs: 100, what: 'an order placed after the kill to complete on the surviving nodes' },
  );
}

/** The saga services whose log says they connected to the broker again after `since`, and to which node. */
function reconnectedAfter(since: number): Record<string, string> {
  const nodes: Record<string, string> = {};
  for (const line of run.stack.logLines([...SAGA_SERVICES])) {
    try {
      const entry = JSON.parse(line) as { message?: string; service?: string; node?: string; timestamp?: string };
      if (entry.message === 'amqp connected' && entry.service && Date.parse(entry.timestamp ?? '') > since) nodes[entry.service] = entry.node ?? '';
    } catch {
      // not a log line of ours (e.g. a runtime warning)
    }
  }
  return nodes;
}

describe('scenario 13: a RabbitMQ cluster node dies', () => {
  it('when the node leading the service queues is SIGKILLed under load and started again, then the services carry on through the surviving nodes, nothing is lost or charged twice, and every order ends', async () => {
    const nodes = theCluster();
    const prefix = run.stack.namespace;
    const names = topologyNames(prefix);

    // Every service queue, both lanes, is a quorum queue with a replica on every node (the default
    // initial group size is the cluster size).
    const laneQueues = new Set(SAGA_SERVICES.flatMap((s) => LANES.map((lane) => names.queue(s, lane))));
    const serviceQueues = (await nodes.queues(prefix)).filter((q) => laneQueues.has(q.name));
    expect(serviceQueues).toHaveLength(laneQueues.size);
    for (const queue of serviceQueues) {
      expect(queue.type, queue.name).toBe('quorum');
      expect([...queue.members].sort(), queue.name).toEqual(nodes.nodes.map((n) => n.name).sort());
    }

    const figures = await run.scenario('cluster-node-sigkill', { durationMs: 25_000 }, async () => {
      const victim = await nodes.leaderOf(names.queue('inventory-service'));
      const ledBeforeKill = serviceQueues.filter((q) => q.leader === victim.name).length;
      const killedAt = Date.now();
      await nodes.kill(victim);
      let firstCompletion: number | undefined;
      let leaderAfterKill = '';
      try {
        firstCompletion = await firstCompletionAfter(killedAt, MAX_DOWN_MS).catch(() => undefined);
        leaderAfterKill = (await nodes.leaderOf(names.queue('inventory-service')).catch(() => undefined))?.name ?? '';
        await sleep(Math.max(0, killedAt + MIN_DOWN_MS - Date.now()));
      } finally {
        await nodes.restart(victim);
      }
      const restartedAt = Date.now();
      await nodes.waitForQuorumQueuesHealed(prefix);
      const reconnected = reconnectedAfter(killedAt);
      return {
        services_reconnected: Object.keys(reconnected).length,
        reconnected_to: [...new Set(Object.values(reconnected))].join(' '),
        cluster_nodes: CLUSTER_SIZE,
        replicas_per_service_queue: serviceQueues[0]?.members.length ?? 0,
        killed_node: victim.name,
        killed_node_address: `127.0.0.1:${victim.amqpPort}`,
        service_queues_it_led: ledBeforeKill,
        inventory_leader_after_kill: leaderAfterKill,
        seconds_kill_to_first_completion_on_survivors:
          firstCompletion === undefined ? null : Math.round((firstCompletion - killedAt) / 100) / 10,
        seconds_node_down: Math.round((restartedAt - killedAt) / 100) / 10,
        seconds_restart_to_healed: Math.round((Date.now() - restartedAt) / 100) / 10,
        seconds_cluster_start: Math.round(clusterStartSeconds * 10) / 10,
      };
    });
    expect(figures.violations).toEqual([]);
    expect(figures.lost).toBe(0);
    expect(figures.double_charges).toBe(0);
    expect(figures.seconds_kill_to_first_completion_on_survivors).not.toBeNull();
    expect(figures.inventory_leader_after_kill).not.toBe(figures.killed_node);
    // Every saga service left the dead node for a live one.
    expect(figures.services_reconnected).toBe(SAGA_SERVICES.length);
    expect(String(figures.reconnected_to)).not.toContain(String(figures.killed_node_address));
  }, 240_000);
});
