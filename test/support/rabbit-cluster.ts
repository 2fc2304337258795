import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { alive } from './servers.js';
import { waitFor } from './wait-for.js';

/**
 * A local RabbitMQ cluster beside the machine's own broker (which keeps 5672 and rabbit@localhost),
 * for tests that need several nodes. Loopback only: every listener is bound to 127.0.0.1 (the
 * distribution port too, through /etc/rabbitmq/rabbitmq-env.conf's ERL_FLAGS, which every node reads).
 *
 * Each node has its own directory under /tmp (owned by the `rabbitmq` user), with its own config
 * file (the machine's rabbitmq.conf pins the listener to 5672), node name, distribution port, data,
 * log, pid and plugin files. Nodes are started with the `rabbitmq-server` and `rabbitmqctl` on the
 * PATH: run as root, Debian's wrappers switch to the `rabbitmq` user (keeping the environment), so
 * server and CLI share /var/lib/rabbitmq/.erlang.cookie. RabbitMQ 3.10 reads RABBITMQ_CONFIG_FILE
 * with or without its `.conf` extension (both checked here); it is given with it.
 */
const run = promisify(execFile);
const DIR_PREFIX = 'rabbit-cluster-';
/** Every wait is bounded; one CLI call too. */
const CLI_TIMEOUT_MS = 60_000;
const NODE_START_TIMEOUT_MS = 90_000;
/** A graceful stop taking longer is cut short by SIGKILL (the data is thrown away anyway). */
const STOP_TIMEOUT_MS = 20_000;

export interface ClusterNode {
  /** Erlang node name, `<name>@localhost`. */
  readonly name: string;
  readonly amqpPort: number;
  readonly distPort: number;
  /** `amqp://guest:guest@127.0.0.1:<port>` (`loopback_users = none` lets guest in). */
  readonly url: string;
  readonly dir: string;
}

export interface QueueInfo {
  name: string;
  type: string;
  leader: string;
  members: string[];
  online: string[];
}

export class RabbitCluster {
  private readonly down = new Set<string>();
  private readonly exitGuard = () => this.killAllNow();

  private constructor(
    readonly dir: string,
    readonly nodes: readonly ClusterNode[],
  ) {}

  /**
   * Starts `size` nodes and joins them into one cluster (the first node is the seed); 12-16 s for
   * three on this machine. On any failure everything started so far is stopped and removed.
   */
  static async start(options: { size?: number } = {}): Promise<RabbitCluster> {
    sweepAbandonedClusters();
    const size = options.size ?? 3;
    const dir = mkdtempSync(path.join(tmpdir(), DIR_PREFIX));
    writeFileSync(path.join(dir, 'owner.pid'), String(process.pid));
    const ports = await freePorts(size * 2);
    const id = randomBytes(3).toString('hex');
    const nodes = Array.from({ length: size }, (_, i): ClusterNode => {
      const amqpPort = ports[i * 2]!;
      return {
        name: `rc${id}n${i + 1}@localhost`,
        amqpPort,
        distPort: ports[i * 2 + 1]!,
        url: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
        dir: path.join(dir, `n${i + 1}`),
      };
    });
    const cluster = new RabbitCluster(dir, nodes);
    process.once('exit', cluster.exitGuard);
    try {
      for (const node of nodes) writeNodeFiles(node);
      await giveToRabbitmqUser(dir);
      await Promise.all(nodes.map((node) => cluster.launch(node)));
      const [seed, ...others] = nodes;
      for (const node of others) {
        await cluster.ctl(node, 'stop_app');
        await cluster.ctl(node, 'join_cluster', seed!.name);
        await cluster.ctl(node, 'start_app');
      }
      await cluster.waitForRunning(nodes);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Every node's URL, comma-separated: what AMQP_URL takes. */
  get amqpUrl(): string {
    return this.nodes.map((node) => node.url).join(',');
  }

  node(name: string): ClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`${name} is not a node of this cluster`);
    return node;
  }

  /** `rabbitmqctl -n <node> …` (bounded). */
  async ctl(node: ClusterNode, ...args: string[]): Promise<string> {
    return (await run('rabbitmqctl', ['-n', node.name, ...args], { timeout: CLI_TIMEOUT_MS })).stdout;
  }

  /** SIGKILLs the node's Erlang VM (its OS pid from the pid file) and waits until it is gone. */
  async kill(node: ClusterNode): Promise<void> {
    const pid = runningVm(node.dir);
    if (pid === undefined) throw new Error(`${node.name} is not running`);
    this.down.add(node.name);
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => runningVm(node.dir) === undefined, { timeoutMs: 10_000, what: `${node.name} to die` });
  }

  /** Starts a killed node again; it rejoins the cluster from its own data. Resolves once every node runs. */
  async restart(node: ClusterNode): Promise<void> {
    await this.launch(node);
    this.down.delete(node.name);
    await this.waitForRunning(this.nodes);
  }

  /** The queues of the default vhost whose name starts with `prefix`, with leader and (online) members. */
  async queues(prefix = ''): Promise<QueueInfo[]> {
    const stdout = await this.ctl(this.liveNode(), '-q', 'list_queues', '-p', '/', 'name', 'type', 'leader', 'members', 'online', '--formatter', 'json');
    // Classic queues answer '' for leader, members and online.
    const all = JSON.parse(stdout) as Array<Record<keyof QueueInfo, unknown>>;
    const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);
    return all
      .filter((q) => String(q.name).startsWith(prefix))
      .map((q) => ({ name: String(q.name), type: String(q.type), leader: String(q.leader ?? ''), members: list(q.members), online: list(q.online) }));
  }

  /** The node that leads quorum queue `queue`. */
  async leaderOf(queue: string): Promise<ClusterNode> {
    const info = (await this.queues(queue)).find((q) => q.name === queue);
    if (!info?.leader) throw new Error(`quorum queue ${queue} has no leader`);
    return this.node(info.leader);
  }

  /** Waits until every quorum queue whose name starts with `prefix` has all its members online. */
  async waitForQuorumQueuesHealed(prefix: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        const quorum = (await this.queues(prefix)).filter((q) => q.type === 'quorum');
        return quorum.length > 0 && quorum.every((q) => q.members.length === this.nodes.length && q.online.length === q.members.length);
      },
      { timeoutMs, intervalMs: 1_000, what: `every quorum queue of ${prefix} to have ${this.nodes.length} members online` },
    );
  }

  /** Stops every node (SIGKILL after a bounded graceful stop) and removes the cluster's directory. */
  async stop(): Promise<void> {
    await Promise.allSettled(
      this.nodes.map(async (node) => {
        const pid = runningVm(node.dir);
        if (pid === undefined) return;
        await run('rabbitmqctl', ['-n', node.name, '-q', 'stop', path.join(node.dir, 'pid')], { timeout: STOP_TIMEOUT_MS }).catch(() => undefined);
        if (runningVm(node.dir) === pid) process.kill(pid, 'SIGKILL');
        await waitFor(async () => runningVm(node.dir) === undefined, { timeoutMs: 10_000, what: `${node.name} to stop` });
      }),
    );
    this.killAllNow();
    process.removeListener('exit', this.exitGuard);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** `rabbitmq-server -detached` for one node, then `await_startup`, retried (it fails right after a start). */
  private async launch(node: ClusterNode): Promise<void> {
    await run('rabbitmq-server', ['-detached'], { env: { ...process.env, ...nodeEnv(node) }, timeout: CLI_TIMEOUT_MS });
    await waitFor(
      async () => {
        await this.ctl(node, '-q', 'await_startup', '--timeout', '30');
        return true;
      },
      { timeoutMs: NODE_START_TIMEOUT_MS, intervalMs: 500, what: `${node.name} to start (log: ${node.dir}/log)` },
    );
  }

  private async waitForRunning(nodes: readonly ClusterNode[]): Promise<void> {
    const expected = nodes.map((n) => n.name).sort();
    await waitFor(
      async () => {
        const status = JSON.parse(await this.ctl(this.liveNode(), '-q', 'cluster_status', '--formatter', 'json')) as { running_nodes?: string[] };
        return JSON.stringify([...(status.running_nodes ?? [])].sort()) === JSON.stringify(expected);
      },
      { timeoutMs: NODE_START_TIMEOUT_MS, intervalMs: 1_000, what: `nodes ${expected.join(', ')} to run as one cluster` },
    );
  }

  private liveNode(): ClusterNode {
    const node = this.nodes.find((n) => !this.down.has(n.name));
    if (!node) throw new Error('every node of the cluster is down');
    return node;
  }

  /** Synchronous last resort (process exit without stop()): no node outlives the test process. */
  private killAllNow(): void {
    for (const node of this.nodes) {
      const pid = runningVm(node.dir);
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    }
  }
}

function nodeEnv(node: ClusterNode): Record<string, string> {
  return {
    RABBITMQ_NODENAME: node.name,
    RABBITMQ_DIST_PORT: String(node.distPort),
    RABBITMQ_CONFIG_FILE: path.join(node.dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(node.dir, 'advanced.config'),
    RABBITMQ_MNESIA_BASE: path.join(node.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(node.dir, 'log'),
    RABBITMQ_PID_FILE: path.join(node.dir, 'pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(node.dir, 'enabled_plugins'),
  };
}

function writeNodeFiles(node: ClusterNode): void {
  mkdirSync(path.join(node.dir, 'mnesia'), { recursive: true });
  mkdirSync(path.join(node.dir, 'log'), { recursive: true });
  writeFileSync(path.join(node.dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${node.amqpPort}\nloopback_users = none\n`);
  // No plugins: no management or Prometheus listener to collide with the machine's broker.
  writeFileSync(path.join(node.dir, 'enabled_plugins'), '[].\n');
}

/** The server runs as `rabbitmq`: when we are root, the cluster's files become its own. */
async function giveToRabbitmqUser(dir: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const uid = Number((await run('id', ['-u', 'rabbitmq'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'rabbitmq'])).stdout.trim());
  const chownTree = (p: string) => {
    chownSync(p, uid, gid);
    for (const entry of readdirSync(p, { withFileTypes: true })) {
      if (entry.isDirectory()) chownTree(path.join(p, entry.name));
      else chownSync(path.join(p, entry.name), uid, gid);
    }
  };
  chownTree(dir);
}

/**
 * The OS pid of the node's Erlang VM (from the pid file RabbitMQ writes in `nodeDir`) while that VM
 * runs. A pid is taken only if its process's environment names that pid file, so a pid recycled
 * after the node died is never signalled.
 */
function runningVm(nodeDir: string): number | undefined {
  try {
    const pidFile = path.join(nodeDir, 'pid');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`RABBITMQ_PID_FILE=${pidFile}`) ? pid : undefined;
  } catch {
    return undefined; // no pid file yet, or no such process
  }
}

/**
 * Removes clusters left behind by a test process that died without stopping them (SIGKILLed by a
 * timeout): their owner is gone.
 */
function sweepAbandonedClusters(): void {
  for (const entry of readdirSync(tmpdir()).filter((name) => name.startsWith(DIR_PREFIX))) {
    const dir = path.join(tmpdir(), entry);
    try {
      const owner = Number(readFileSync(path.join(dir, 'owner.pid'), 'utf8'));
      if (alive(owner)) continue;
      for (const node of readdirSync(dir).filter((name) => /^n\d+$/.test(name))) {
        const pid = runningVm(path.join(dir, node));
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Not a cluster of ours (no owner file), or one being removed meanwhile: left alone.
    }
  }
}

/**
 * `count` distinct free loopback ports, below the ephemeral range (so no outgoing connection takes
 * one while a killed node is down) and away from RabbitMQ's defaults (checked by binding each).
 */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 200; tries += 1) {
    const port = randomInt(20_000, 30_000);
    if (!ports.includes(port) && (await bindable(port))) ports.push(port);
  }
  if (ports.length < count) throw new Error(`found only ${ports.length} of ${count} free ports`);
  return ports;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
