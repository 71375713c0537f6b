/**
 * Routes that follow a session as it changes: catch-up and long-poll on `/changes`, the event
 * stream on `/events`, and presence.
 */
import type { Hono } from 'hono';
import { CLIENT_ID_PATTERN, versionTag } from '../protocol.js';
import type { ChangesResponse, PresenceEventData, ResetResponse } from '../protocol.js';
import { hasMediaType, readJsonBody } from './body.js';
import { checkKey, jsonResponse, sessionNotFound } from './context.js';
import { applyCors } from './cors.js';
import type { RouteContext } from './context.js';
import { HttpProblem } from './problems.js';
import type { ChangesOutcome } from './store.js';
import { directStreamOf } from './stream-sinks.js';

const VERSION_PATTERN = /^\d{1,15}$/;
const SECONDS_PATTERN = /^\d{1,6}(\.\d{1,3})?$/;

function sinceParam(value: string | undefined): number {
  if (value === undefined || !VERSION_PATTERN.test(value)) {
    throw new HttpProblem(400, 'bad-request', 'Give ?since= as a version number (0 or more).');
  }
  return Number(value);
}

function waitParam(value: string | undefined, maxMs: number): number {
  if (value === undefined) return 0;
  if (!SECONDS_PATTERN.test(value)) {
    throw new HttpProblem(400, 'bad-request', 'Give ?wait= as a number of seconds.');
  }
  return Math.min(Number(value) * 1000, maxMs);
}

function changesResponse(outcome: ChangesOutcome): Response {
  if (outcome.kind === 'reset') {
    const body: ResetResponse = { version: outcome.version, state: outcome.state, reset: true };
    return jsonResponse(body, 200, { ETag: versionTag(outcome.version) });
  }
  const body: ChangesResponse = { version: outcome.version, changes: outcome.changes };
  return jsonResponse(body, 200, { ETag: versionTag(outcome.version) });
}

function shuttingDown(): HttpProblem {
  return new HttpProblem(503, 'unavailable', 'The server is shutting down.', {
    headers: { 'Retry-After': '1' },
  });
}

const hasNews = (outcome: ChangesOutcome | undefined) =>
  !outcome || outcome.kind === 'reset' || outcome.changes.length > 0;

/**
 * Answers `/changes` once something newer than `since` exists, or when `waitMs` has passed.
 * The subscription starts before the first read, so a write between the two still wakes it.
 */
async function longPoll(
  context: RouteContext,
  key: string,
  since: number,
  waitMs: number,
  signal: AbortSignal,
): Promise<ChangesOutcome | undefined> {
  let wake!: () => void;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  const unsubscribe = context.store.subscribe(key, (event) => {
    if (event.type !== 'presence' && event.type !== 'unavailable') wake();
  });
  const timer = setTimeout(wake, waitMs);
  signal.addEventListener('abort', wake);
  context.heldRequests.add(wake);
  try {
    const first = await context.store.changesSince(key, since);
    if (hasNews(first)) return first;
    await woken;
    if (context.closing.aborted) throw shuttingDown();
    return await context.store.changesSince(key, since);
  } finally {
    unsubscribe();
    clearTimeout(timer);
    signal.removeEventListener('abort', wake);
    context.heldRequests.delete(wake);
  }
}

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  // Asks buffering proxies (nginx and kin) to pass events through at once.
  'X-Accel-Buffering': 'no',
};

/** Registers `/changes`, `/events` and the presence routes. */
export function registerLiveRoutes(app: Hono, context: RouteContext): void {
  const { store, options, hub } = context;

  app.get('/sessions/:key/changes', async (c) => {
    const key = checkKey(c.req.param('key'));
    const since = sinceParam(c.req.query('since'));
    const waitMs = waitParam(c.req.query('wait'), options.longPollMaxMs);

    const outcome =
      waitMs > 0
        ? await longPoll(context, key, since, waitMs, c.req.raw.signal)
        : await store.changesSince(key, since);
    if (!outcome) throw sessionNotFound();
    if (waitMs > 0 && !hasNews(outcome)) {
      return new Response(null, { status: 304, headers: { ETag: versionTag(outcome.version) } });
    }
    return changesResponse(outcome);
  });

  app.get('/sessions/:key/events', async (c) => {
    if (!options.eventStreams) {
      throw new HttpProblem(
        501,
        'streams-unsupported',
        'This host cannot stream; use /changes?wait=.',
      );
    }
    const key = checkKey(c.req.param('key'));
    const lastEventId = c.req.header('Last-Event-ID')?.trim();
    const since =
      lastEventId && VERSION_PATTERN.test(lastEventId)
        ? Number(lastEventId)
        : c.req.query('since') === undefined
          ? undefined
          : sinceParam(c.req.query('since'));

    const direct = directStreamOf(c.env);
    if (direct) {
      const headers = new Headers(SSE_HEADERS);
      applyCors(headers, c.req.raw, options.allowOrigin);
      const opened = await hub.openNode(key, since, direct, Object.fromEntries(headers));
      if (!opened) throw sessionNotFound();
      if (context.closing.aborted) direct.response.end();
      return direct.alreadySent;
    }

    const body = await hub.open(key, since);
    if (!body) throw sessionNotFound();
    if (context.closing.aborted) {
      // The handler closed while this stream was opening: do not leave it behind.
      await body.cancel();
      throw shuttingDown();
    }
    return new Response(body, { status: 200, headers: SSE_HEADERS });
  });

  app.put('/sessions/:key/presence/:clientId', async (c) => {
    const key = checkKey(c.req.param('key'));
    const clientId = c.req.param('clientId');
    if (!CLIENT_ID_PATTERN.test(clientId)) {
      throw new HttpProblem(400, 'bad-request', `The client id must match ${CLIENT_ID_PATTERN}.`);
    }
    if (!hasMediaType(c.req.raw, ['application/json', '+json'])) {
      throw new HttpProblem(415, 'unsupported-media-type', 'Send presence as application/json.');
    }
    const data = await readJsonBody(c.req.raw, {
      maxBytes: options.maxPresenceBytes,
      maxDepth: options.maxDepth,
    });

    const peers = await store.putPresence(key, clientId, data, options.presenceTtlMs);
    if (!peers) throw sessionNotFound();
    const body: PresenceEventData = { peers };
    return jsonResponse(body);
  });

  app.delete('/sessions/:key/presence/:clientId', async (c) => {
    const key = checkKey(c.req.param('key'));
    const peers = await store.removePresence(key, c.req.param('clientId'));
    if (!peers) throw sessionNotFound();
    return new Response(null, { status: 204 });
  });
}
