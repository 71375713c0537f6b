/**
 * Where the propagation time at 200 readers goes, apart from the readers' own parsing:
 * `node --import tsx bench/fan-out-breakdown.ts` (about 30 s; `npm run build` first).
 *
 * 1. The writer's round trip: a PATCH to our server and the same request to the bare
 *    `node:http` server, at 50 writes a second (processes sleep between writes) and back to
 *    back.
 * 2. The fan-out: 200 readers on raw sockets that only look for the event in the bytes they
 *    receive (no HTTP parser, no JSON), so the times are the server's and the kernel's. For each
 *    write: when the first reader, the median reader and the last reader had it.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServerChild, type ServerChild } from './lib/children.js';
import { createSessions, keepAliveAgent, send } from './lib/sync-api.js';

const READERS = 200;
const WRITES = 300;
const WARM_UP = 50;
const GAP_MS = 20;

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const ms = (value: number) => `${value.toFixed(2)} ms`;

/** Median time of `count` PATCH round trips, `gapMs` apart. */
async function roundTrip(url: string, headers: Record<string, string>, gapMs: number) {
  const agent = keepAliveAgent(1);
  const times: number[] = [];
  for (let i = 0; i < WRITES; i++) {
    const sentAt = performance.now();
    await send(agent, 'PATCH', url, headers, JSON.stringify({ n: i }));
    if (i >= WARM_UP) times.push(performance.now() - sentAt);
    if (gapMs) await sleep(gapMs);
  }
  agent.destroy();
  return quantile(times, 0.5);
}

/** Opens `count` event streams on raw sockets; `onChange` runs when one receives a change. */
async function rawReaders(server: ServerChild, key: string, onChange: () => void) {
  const { port } = new URL(server.url);
  const sockets: Socket[] = [];
  for (let i = 0; i < READERS; i++) {
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET /sessions/${key}/events HTTP/1.1\r\nHost: bench\r\n\r\n`);
    socket.on('data', (bytes: Buffer) => {
      if (bytes.includes('event: change')) onChange();
    });
    sockets.push(socket);
  }
  await sleep(500); // every snapshot has arrived
  return sockets;
}

const [ours, bare] = await Promise.all([
  startServerChild('session-sync'),
  startServerChild('bare-http'),
]);
try {
  const [session] = await createSessions(ours.url, 1, { n: 0 });
  const url = `${ours.url}/sessions/${session!.key}`;
  const headers = {
    'Content-Type': 'application/merge-patch+json',
    Authorization: `Bearer ${session!.writeToken}`,
  };
  const bareUrl = `${bare.url}/sessions/x`;
  for (const gap of [GAP_MS, 0]) {
    const pace = gap ? `${1000 / gap} writes/s` : 'back to back';
    console.log(
      `round trip, ${pace}: session-sync ${ms(await roundTrip(url, headers, gap))},`,
      `bare node:http ${ms(await roundTrip(bareUrl, {}, gap))}`,
    );
  }

  let arrivals: number[] = [];
  let sentAt = 0;
  const sockets = await rawReaders(ours, session!.key, () =>
    arrivals.push(performance.now() - sentAt),
  );
  const agent = keepAliveAgent(1);
  const acks: number[] = [];
  const [first, median, last]: number[][] = [[], [], []];
  for (let i = 0; i < WRITES; i++) {
    arrivals = [];
    sentAt = performance.now();
    await send(agent, 'PATCH', url, headers, JSON.stringify({ n: i }));
    const ack = performance.now() - sentAt;
    await sleep(GAP_MS);
    if (i < WARM_UP || arrivals.length !== READERS) continue;
    acks.push(ack);
    first.push(quantile(arrivals, 0));
    median.push(quantile(arrivals, 0.5));
    last.push(quantile(arrivals, 1));
  }
  agent.destroy();
  for (const socket of sockets) socket.destroy();
  console.log(
    `fan-out to ${READERS} raw readers, ${1000 / GAP_MS} writes/s, medians over ${acks.length} writes:`,
    `write answered ${ms(quantile(acks, 0.5))}, first reader ${ms(quantile(first, 0.5))},`,
    `median reader ${ms(quantile(median, 0.5))}, last reader ${ms(quantile(last, 0.5))}`,
  );
} finally {
  await Promise.all([ours.stop(), bare.stop()]);
}
