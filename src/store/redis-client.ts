import { createClient } from '@keyv/redis';

/**
 * Connects a Redis client. The first connect fails at once when the server does not answer (a
 * startup error, instead of retrying forever); once connected, it reconnects with backoff.
 */
export async function openRedisClient(url: string, onError: (error: unknown) => void) {
  let connected = false;
  const client = createClient({
    url,
    socket: {
      connectTimeout: 5000,
      reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(100 * 2 ** retries, 3000) : cause),
    },
  });
  client.on('error', onError); // an 'error' event without a listener would crash the process
  await client.connect();
  connected = true;
  return client;
}

export type RedisClient = Awaited<ReturnType<typeof openRedisClient>>;
