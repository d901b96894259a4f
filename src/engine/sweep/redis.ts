// Reaching the queue's Redis: the URL checked, one PING with a short timeout before anything is
// enqueued or written (an unreachable queue is one error line, exit 2), and the key where the
// sweeps on a queue record the peft version their workers must run.
import { Redis } from 'ioredis';
import { PeftError } from '../../errors.js';

const URL_HINT = 'the queue is a Redis server: --queue redis://HOST:PORT (start one with redis-server --port 6379)';

export function checkQueueUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PeftError('USAGE', `--queue ${url}: not a URL`, { hint: URL_HINT });
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new PeftError('USAGE', `--queue ${url}: not a redis:// URL`, { hint: URL_HINT });
  }
}

/** A connection for BullMQ (blocking commands: no per-request retry limit). */
export function connect(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

/** Throws QUEUE when nothing answers PING at `url` within a few seconds. */
export async function pingQueue(url: string, timeoutMs = 3000): Promise<void> {
  checkQueueUrl(url);
  const r = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let first: Error | null = null;
  r.on('error', (e: Error) => (first ??= e)); // the cause (ECONNREFUSED, ENOTFOUND …), reported below
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    const why = (first as (Error & { code?: string }) | null)?.code ?? (first ?? (e as Error)).message ?? 'no answer';
    throw new PeftError('QUEUE', `cannot reach the queue at ${url} (${why})`, { hint: `is redis-server running there? ${URL_HINT}` });
  } finally {
    r.disconnect();
  }
}

/** The Redis key holding the peft version of the sweeps on a queue. */
export function versionKey(queueName: string): string {
  return `peft:${queueName}:version`;
}
