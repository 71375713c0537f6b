/**
 * The systems the propagation benchmark compares, in table order. Cross-instance joins only
 * where the Redis store exists and a Redis answers on 127.0.0.1:6379.
 */
import { startServerChild } from '../lib/children.js';
import type { BenchConfig } from '../lib/section.js';
import { redisAvailable, redisBenchEnv } from '../lib/redis.js';
import { LongPollTarget } from './ours-long-poll.js';
import { SseTarget } from './ours-sse.js';
import type { PropagationTarget } from './transport.js';
import { YjsTarget } from './yjs-websocket.js';

export async function availableTargets(config: BenchConfig): Promise<PropagationTarget[]> {
  const targets: PropagationTarget[] = [
    new SseTarget({
      name: 'session-sync SSE',
      startServers: async () => {
        const server = await startServerChild('session-sync');
        return { writeUrl: server.url, readUrl: server.url, stop: () => server.stop() };
      },
    }),
    new LongPollTarget(),
    new YjsTarget(),
  ];

  const redis = await redisAvailable();
  if (redis.ok) {
    targets.push(
      new SseTarget({
        name: 'session-sync SSE, 2 instances on Redis',
        startServers: async () => {
          const env = redisBenchEnv();
          const [writer, reader] = await Promise.all([
            startServerChild('session-sync', env.vars),
            startServerChild('session-sync', env.vars),
          ]);
          return {
            writeUrl: writer.url,
            readUrl: reader.url,
            stop: async () => {
              await Promise.all([writer.stop(), reader.stop()]);
              await env.cleanUp();
            },
          };
        },
      }),
    );
  } else {
    config.log(`propagation: no cross-instance figure (${redis.reason})`);
  }
  return targets;
}
