/**
 * Memory: what the server process holds per idle session and per open stream, measured inside
 * the server child after a full GC (heap, plus external buffers; and resident set size, which
 * also counts sockets and allocator slack). Yjs's server is measured per open connection; it
 * keeps no idle documents (without persistence a document goes when its last client leaves).
 */
import { startServerChild, type MemorySample, type ServerChild } from './lib/children.js';
import type { BenchConfig, Section } from './lib/section.js';
import { openEventStream, type EventStream } from './lib/sse-reader.js';
import { formatBytes, formatNumber } from './lib/stats.js';
import { createSessions, type Session } from './lib/sync-api.js';
import { connectYjsClient, synced } from './transports/yjs-websocket.js';

/** A small game's state, about 80 bytes of JSON. */
const SMALL_STATE = { board: ['', '', '', '', '', '', '', '', ''], turn: 'x', winner: null };

export interface MemoryRow {
  server: string;
  what: string;
  count: number;
  heapPerItem: number;
  rssPerItem: number;
}

const heap = (sample: MemorySample) => sample.heapUsed + sample.external;

function perItem(
  server: string,
  what: string,
  count: number,
  before: MemorySample,
  after: MemorySample,
): MemoryRow {
  return {
    server,
    what,
    count,
    heapPerItem: (heap(after) - heap(before)) / count,
    rssPerItem: (after.rss - before.rss) / count,
  };
}

/** Opens one stream on each session; resolves when every snapshot has arrived. */
async function openStreams(server: ServerChild, sessions: Session[]): Promise<EventStream[]> {
  const streams: EventStream[] = [];
  for (let start = 0; start < sessions.length; start += 100) {
    await Promise.all(
      sessions.slice(start, start + 100).map(
        (session) =>
          new Promise<void>((resolve, reject) => {
            openEventStream(`${server.url}/sessions/${session.key}/events`, (event) => {
              if (event.event === 'snapshot') resolve();
            }).then((stream) => streams.push(stream), reject);
          }),
      ),
    );
  }
  return streams;
}

async function measureOurs(
  sessionCount: number,
  streamCount: number,
  config: BenchConfig,
): Promise<MemoryRow[]> {
  const server = await startServerChild('session-sync');
  const streams: EventStream[] = [];
  try {
    const empty = await server.memory();
    config.log(`memory: creating ${sessionCount} sessions`);
    const sessions = await createSessions(server.url, sessionCount, SMALL_STATE);
    const idle = await server.memory();
    config.log(`memory: opening ${streamCount} event streams`);
    streams.push(...(await openStreams(server, sessions.slice(0, streamCount))));
    const streaming = await server.memory();
    return [
      perItem('session-sync', 'idle session', sessionCount, empty, idle),
      perItem('session-sync', 'open SSE stream (one per session)', streamCount, idle, streaming),
    ];
  } finally {
    for (const stream of streams) stream.close();
    await server.stop();
  }
}

async function measureYjs(connectionCount: number, config: BenchConfig): Promise<MemoryRow> {
  const server = await startServerChild('yjs-websocket');
  const clients: ReturnType<typeof connectYjsClient>[] = [];
  try {
    const empty = await server.memory();
    config.log(`memory: opening ${connectionCount} y-websocket connections`);
    for (let start = 0; start < connectionCount; start += 100) {
      const batch = Array.from({ length: Math.min(100, connectionCount - start) }, (_, index) =>
        connectYjsClient(server.url, `room-${start + index}`),
      );
      clients.push(...batch);
      await Promise.all(batch.map(({ provider }) => synced(provider)));
    }
    const connected = await server.memory();
    return perItem(
      'Yjs + y-websocket',
      'open connection (one per document)',
      connectionCount,
      empty,
      connected,
    );
  } finally {
    for (const { provider, doc } of clients) {
      provider.destroy();
      doc.destroy();
    }
    await server.stop();
  }
}

export async function runMemory(config: BenchConfig): Promise<Section> {
  const sessionCount = config.quick ? 1000 : 10_000;
  const streamCount = config.quick ? 100 : 1000;
  const rows = [
    ...(await measureOurs(sessionCount, streamCount, config)),
    await measureYjs(streamCount, config),
  ];
  return {
    id: 'memory',
    title: `Server memory: ${formatNumber(sessionCount)} sessions, ${formatNumber(streamCount)} streams`,
    headers: ['server', 'per', 'count', 'heap + external', 'RSS'],
    rows: rows.map((row) => [
      row.server,
      row.what,
      formatNumber(row.count),
      formatBytes(row.heapPerItem),
      formatBytes(row.rssPerItem),
    ]),
    notes: [
      'Measured in the server child after two forced GCs; differences divided by the count.',
      `Sessions hold ${Buffer.byteLength(JSON.stringify(SMALL_STATE))} bytes of state each (a tic-tac-toe board).`,
    ],
    targets: [],
    data: { sessionCount, streamCount, rows },
  };
}
