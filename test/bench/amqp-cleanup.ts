import amqplib from 'amqplib';
import { withTimeout } from './with-timeout.js';

export interface AmqpObjects {
  queues?: readonly string[];
  exchanges?: readonly string[];
}

/**
 * Deletes a measurement's queues and exchanges on a connection of its own, so it works whatever
 * state the measured client was left in. Each object gets a fresh channel: a failed delete closes
 * the channel it ran on.
 */
export async function deleteAmqpObjects(url: string, objects: AmqpObjects, timeoutMs = 10_000): Promise<void> {
  const connection = await withTimeout(amqplib.connect(url), timeoutMs, 'a cleanup connection');
  connection.on('error', () => undefined);
  const remove = async (what: string, deleteOne: (channel: amqplib.Channel) => Promise<unknown>) => {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await withTimeout(deleteOne(channel), timeoutMs, `deleting ${what}`);
    await channel.close();
  };
  try {
    for (const queue of objects.queues ?? []) await remove(`queue ${queue}`, (channel) => channel.deleteQueue(queue));
    for (const exchange of objects.exchanges ?? []) await remove(`exchange ${exchange}`, (channel) => channel.deleteExchange(exchange));
  } finally {
    await connection.close().catch(() => undefined);
  }
}
