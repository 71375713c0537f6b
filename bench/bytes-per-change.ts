/**
 * Bytes per change: a session holds about 100 KB of state and one key changes. How many bytes
 * does each reader receive for it (headers and framing included, counted on the reader's
 * socket), and how many while nothing changes? Our stream, our long-poll and plain polling,
 * the original design's full-state poll every 5 s, and Yjs with y-websocket.
 */
import { get } from 'node:http';
import { startServerChild } from './lib/children.js';
import type { BenchConfig, Section, TargetCheck } from './lib/section.js';
import { openEventStream } from './lib/sse-reader.js';
import { formatBytes } from './lib/stats.js';
import { createSession, patchSession, type Session } from './lib/sync-api.js';
import { connectYjsClient, synced } from './transports/yjs-websocket.js';

const KEYS = 1000;
const POLL_SECONDS = 5;
const LONG_POLL_WAIT_SECONDS = 25;
const HEARTBEAT_SECONDS = 15;

/** About 100 KB: a thousand keys of 90-character strings. */
function largeState(): Record<string, string> {
  const items: Record<string, string> = {};
  for (let index = 0; index < KEYS; index += 1) {
    items[`k${String(index).padStart(4, '0')}`] = `${index}:`.padEnd(90, 'x');
  }
  return items;
}

export interface BytesRow {
  mode: string;
  /** Bytes one reader receives for one single-key change. */
  perChange: number;
  /** Bytes one reader receives per minute while nothing changes. */
  idlePerMinute: number;
  /** How the idle figure was obtained. */
  idleBasis: string;
}

/** GETs `url` on a fresh socket; resolves with the bytes read off it for the whole response. */
function receivedBytes(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, headers }, (response) => {
      response.resume();
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, bytes: request.socket?.bytesRead ?? 0 }),
      );
    });
    request.on('error', reject);
  });
}

const changeOf = (round: number) => `{"items":{"k0500":"changed in round ${round}"}}`;

export async function runBytesPerChange(config: BenchConfig): Promise<Section> {
  const state = largeState();
  const stateBytes = Buffer.byteLength(JSON.stringify({ items: state }));
  const rows: BytesRow[] = [];
  let round = 0;

  // A heartbeat every 200 ms instead of 15 s, so a second shows what one heartbeat costs.
  const server = await startServerChild('session-sync', {
    BENCH_SERVER_OPTIONS: JSON.stringify({ heartbeatMs: 200 }),
  });
  try {
    const session: Session = await createSession(false, server.url, { items: state });
    const base = `${server.url}/sessions/${session.key}`;
    const write = async () => {
      const { status, version } = await patchSession(
        false,
        server.url,
        session,
        changeOf((round += 1)),
      );
      if (status !== 200 || version === undefined) throw new Error(`PATCH answered ${status}`);
      session.version = version;
    };

    config.log('bytes per change: SSE');
    rows.push(await streamBytes(base, write));

    config.log('bytes per change: long-poll');
    const held = receivedBytes(
      `${base}/changes?since=${session.version}&wait=${LONG_POLL_WAIT_SECONDS}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await write();
    const longPoll = await held;
    const longPollIdle = await receivedBytes(`${base}/changes?since=${session.version}&wait=0.2`);
    rows.push({
      mode: `session-sync long-poll (wait ${LONG_POLL_WAIT_SECONDS} s)`,
      perChange: longPoll.bytes,
      idlePerMinute: (longPollIdle.bytes * 60) / LONG_POLL_WAIT_SECONDS,
      idleBasis: `one 304 every ${LONG_POLL_WAIT_SECONDS} s`,
    });

    config.log('bytes per change: polling');
    const before = session.version;
    await write();
    const poll = await receivedBytes(`${base}/changes?since=${before}`);
    const pollIdle = await receivedBytes(`${base}/changes?since=${session.version}`);
    rows.push({
      mode: `session-sync poll of /changes every ${POLL_SECONDS} s`,
      perChange: poll.bytes,
      idlePerMinute: (pollIdle.bytes * 60) / POLL_SECONDS,
      idleBasis: `one empty answer every ${POLL_SECONDS} s`,
    });

    config.log('bytes per change: full-state poll');
    await write();
    const full = await receivedBytes(base);
    rows.push({
      mode: `full-state poll every ${POLL_SECONDS} s (original design)`,
      perChange: full.bytes,
      idlePerMinute: (full.bytes * 60) / POLL_SECONDS,
      idleBasis: `the whole state every ${POLL_SECONDS} s`,
    });
    const notModified = await receivedBytes(base, { 'If-None-Match': `"${session.version}"` });
    rows.push({
      mode: `full-state poll every ${POLL_SECONDS} s with If-None-Match`,
      perChange: full.bytes,
      idlePerMinute: (notModified.bytes * 60) / POLL_SECONDS,
      idleBasis: `one 304 every ${POLL_SECONDS} s`,
    });
  } finally {
    await server.stop();
  }

  config.log('bytes per change: Yjs + y-websocket');
  rows.push(await yjsBytes(state));

  const sse = rows[0];
  const targets: TargetCheck[] = [
    {
      target: 'single-key change on a 100 KB state under 1 KB per reader (SSE)',
      figure: `${sse.perChange} B`,
      met: sse.perChange < 1024,
    },
  ];
  return {
    id: 'bytesPerChange',
    title: `Bytes per change: one key of a ${formatBytes(stateBytes)} state, bytes one reader receives`,
    headers: ['mode', 'per change', 'idle per minute', 'idle basis'],
    rows: rows.map((row) => [
      row.mode,
      formatBytes(row.perChange),
      formatBytes(row.idlePerMinute),
      row.idleBasis,
    ]),
    notes: [
      "Counted on the reader's socket: status line, headers, chunk framing and body.",
      'Idle per minute is one measured idle answer (or heartbeat) times how often it comes.',
    ],
    targets,
    data: { stateBytes, rows },
  };
}

/** SSE: bytes between the snapshot and the change event; heartbeat bytes over a second. */
async function streamBytes(base: string, write: () => Promise<void>): Promise<BytesRow> {
  let onChange = () => {};
  let onSnapshot = () => {};
  const changed = new Promise<void>((resolve) => (onChange = resolve));
  const snapshot = new Promise<void>((resolve) => (onSnapshot = resolve));
  const stream = await openEventStream(`${base}/events`, (event) => {
    if (event.event === 'snapshot') onSnapshot();
    if (event.event === 'change') onChange();
  });
  try {
    await snapshot;
    const afterSnapshot = stream.bytesRead();
    const heartbeatsBefore = stream.comments();
    await write();
    await changed;
    const perChange = stream.bytesRead() - afterSnapshot;
    if (stream.comments() !== heartbeatsBefore)
      throw new Error('a heartbeat landed inside the change window; run again');

    const idleStart = stream.bytesRead();
    const heartbeatsAtStart = stream.comments();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const heartbeats = stream.comments() - heartbeatsAtStart;
    const perHeartbeat = heartbeats > 0 ? (stream.bytesRead() - idleStart) / heartbeats : NaN;
    return {
      mode: 'session-sync SSE',
      perChange,
      idlePerMinute: (perHeartbeat * 60) / HEARTBEAT_SECONDS,
      idleBasis: `one heartbeat every ${HEARTBEAT_SECONDS} s`,
    };
  } finally {
    stream.close();
  }
}

/** Yjs: one reader's socket bytes for one `Y.Map.set` on a map holding the same state. */
async function yjsBytes(state: Record<string, string>): Promise<BytesRow> {
  const server = await startServerChild('yjs-websocket');
  const writer = connectYjsClient(server.url, 'bytes');
  const reader = connectYjsClient(server.url, 'bytes');
  try {
    await Promise.all([synced(writer.provider), synced(reader.provider)]);
    const items = writer.doc.getMap<string>('items');
    const loaded = new Promise<void>((resolve) =>
      reader.doc.getMap('items').observe(() => resolve()),
    );
    writer.doc.transact(() => {
      for (const [key, value] of Object.entries(state)) items.set(key, value);
    });
    await loaded;

    const socket = (reader.provider.ws as unknown as { _socket: { bytesRead: number } })._socket;
    const before = socket.bytesRead;
    const changed = new Promise<void>((resolve) =>
      reader.doc.getMap('items').observe(() => resolve()),
    );
    items.set('k0500', 'changed in round 1');
    await changed;
    return {
      mode: 'Yjs + y-websocket (awareness off)',
      perChange: socket.bytesRead - before,
      idlePerMinute: NaN,
      idleBasis: 'not measured (awareness renewals every 15 s when on)',
    };
  } finally {
    for (const client of [writer, reader]) {
      client.provider.destroy();
      client.doc.destroy();
    }
    await server.stop();
  }
}
