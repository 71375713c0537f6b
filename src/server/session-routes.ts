/**
 * Routes on a session's state: create, read, patch, replace, delete.
 *
 * Writes read the session, compute the next state and hand it to the store's one atomic
 * primitive, `compareAndWrite`. When another write got there first, a write without
 * `If-Match` recomputes on the newer state and tries again (the patch applies to the latest
 * state, as the contract says); a write with `If-Match` answers 412 and changes nothing.
 */
import type { Hono } from 'hono';
import { applyMergePatch } from '../merge-patch.js';
import { MERGE_PATCH_TYPE, TOKEN_PATTERN, parseVersionTag, versionTag } from '../protocol.js';
import type { Json, SessionCreated, SessionView, WriteAck } from '../protocol.js';
import { hasMediaType, parseJsonBody, readBodyText, readJsonBody, utf8Length } from './body.js';
import {
  authorize,
  bearerToken,
  checkKey,
  clientIdOf,
  isJsonObject,
  jsonResponse,
  sessionNotFound,
} from './context.js';
import type { RouteContext } from './context.js';
import { HttpProblem } from './problems.js';
import type { StoredSession } from './store.js';
import { hashToken, randomId } from './tokens.js';

/** Beyond this many lost races a write gives up with 503 rather than spin. */
const MAX_WRITE_ATTEMPTS = 64;
const JSON_TYPES = ['application/json', '+json'];

function checkStateSize(state: Json, context: RouteContext): void {
  const max = context.options.maxStateBytes;
  if (utf8Length(JSON.stringify(state)) > max) {
    throw new HttpProblem(413, 'too-large', `The state would be larger than ${max} bytes.`);
  }
}

function requireJsonBody(request: Request): void {
  if (!hasMediaType(request, JSON_TYPES)) {
    throw new HttpProblem(415, 'unsupported-media-type', 'Send the body as application/json.');
  }
}

/** Stores a new session and answers 201 with its key and write token. */
async function createSession(
  context: RouteContext,
  state: Json,
  key = randomId(),
  token = randomId(),
): Promise<Response | undefined> {
  const updatedAt = Date.now();
  const session: StoredSession = {
    key,
    tokenHash: hashToken(token),
    version: 0,
    state,
    updatedAt,
  };
  if (!(await context.store.create(session))) return undefined;

  const body: SessionCreated = {
    key,
    writeToken: token,
    version: 0,
    state,
    updatedAt: new Date(updatedAt).toISOString(),
  };
  return jsonResponse(body, 201, { Location: `/sessions/${key}`, ETag: versionTag(0) });
}

/** The read-compute-compareAndWrite loop shared by PATCH and PUT. */
async function write(
  context: RouteContext,
  request: Request,
  first: StoredSession,
  next: (state: Json) => Json,
  change: { patch: Json; replace?: true },
): Promise<Response> {
  const by = clientIdOf(request);
  const ifMatch = request.headers.get('If-Match');
  const expected =
    ifMatch === null || ifMatch.trim() === '*' ? undefined : parseVersionTag(ifMatch);
  const conditional = expected !== undefined || (ifMatch !== null && ifMatch.trim() !== '*');

  let session: StoredSession | undefined = first;
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    if (!session) throw sessionNotFound();
    if (conditional && session.version !== expected) throw conflict(session.version);

    const state = next(session.state);
    checkStateSize(state, context);
    const updatedAt = Date.now();
    const outcome = await context.store.compareAndWrite(session.key, session.version, {
      state,
      change: { ...change, by },
      updatedAt,
    });
    if (outcome.ok) {
      const ack: WriteAck = {
        version: outcome.version,
        updatedAt: new Date(updatedAt).toISOString(),
      };
      return jsonResponse(ack, 200, { ETag: versionTag(outcome.version) });
    }
    if (outcome.reason === 'not-found') throw sessionNotFound();
    if (conditional) throw conflict(outcome.version);
    session = await context.store.get(session.key);
  }
  throw new HttpProblem(503, 'unavailable', 'Too many concurrent writes; try again.', {
    headers: { 'Retry-After': '1' },
  });
}

function conflict(version: number): HttpProblem {
  return new HttpProblem(412, 'version-conflict', `The session is at version ${version} now.`, {
    version,
  });
}

/** Registers POST /sessions and the routes on /sessions/:key. */
export function registerSessionRoutes(app: Hono, context: RouteContext): void {
  const { store, options } = context;
  const limits = { maxBytes: options.maxBodyBytes, maxDepth: options.maxDepth };

  app.post('/sessions', async (c) => {
    const text = await readBodyText(c.req.raw, options.maxBodyBytes);
    let state: Json = {};
    if (text.trim() !== '') {
      requireJsonBody(c.req.raw);
      // One level more than maxDepth: the {"state": ...} wrapper is not part of the state.
      const body = parseJsonBody(text, options.maxDepth + 1);
      if (!isJsonObject(body)) {
        throw new HttpProblem(400, 'bad-request', 'The body must be an object: {"state": ...}.');
      }
      if (Object.hasOwn(body, 'state')) state = body.state as Json;
    }
    checkStateSize(state, context);

    for (let attempt = 0; attempt < 3; attempt++) {
      const created = await createSession(context, state);
      if (created) return created;
    }
    throw new Error('Three random keys in a row were taken.');
  });

  app.get('/sessions/:key', async (c) => {
    const session = await store.get(checkKey(c.req.param('key')));
    if (!session) throw sessionNotFound();

    const etag = versionTag(session.version);
    if (parseVersionTag(c.req.header('If-None-Match')) === session.version) {
      return new Response(null, {
        status: 304,
        headers: { ETag: etag, 'Cache-Control': 'no-cache' },
      });
    }
    const view: SessionView = {
      key: session.key,
      version: session.version,
      state: session.state,
      updatedAt: new Date(session.updatedAt).toISOString(),
      peers: await store.peers(session.key),
    };
    return jsonResponse(view, 200, { ETag: etag, 'Cache-Control': 'no-cache' });
  });

  app.patch('/sessions/:key', async (c) => {
    const session = await store.get(checkKey(c.req.param('key')));
    if (!session) throw sessionNotFound();
    authorize(c.req.raw, session);
    if (!hasMediaType(c.req.raw, [MERGE_PATCH_TYPE])) {
      throw new HttpProblem(
        415,
        'unsupported-media-type',
        `Send the patch as ${MERGE_PATCH_TYPE}.`,
        {
          headers: { 'Accept-Patch': MERGE_PATCH_TYPE },
        },
      );
    }
    const patch = await readJsonBody(c.req.raw, limits);
    return write(context, c.req.raw, session, (state) => applyMergePatch(state, patch), { patch });
  });

  app.put('/sessions/:key', async (c) => {
    const key = checkKey(c.req.param('key'));
    const session = await store.get(key);
    const token = bearerToken(c.req.raw);
    // A write token on an unknown key re-creates the session, so a client whose server lost
    // its memory (a recycled serverless instance) can restore the state it holds.
    if (!session && !(token && TOKEN_PATTERN.test(token))) throw sessionNotFound();
    if (session) authorize(c.req.raw, session);
    requireJsonBody(c.req.raw);
    const state = await readJsonBody(c.req.raw, limits);
    checkStateSize(state, context);

    if (!session) {
      const created = await createSession(context, state, key, token);
      if (created) return created;
      // Another request re-created it first: write over it like any PUT, if the token fits.
      const current = await store.get(key);
      if (!current) throw sessionNotFound();
      authorize(c.req.raw, current);
      return write(context, c.req.raw, current, () => state, { patch: state, replace: true });
    }
    return write(context, c.req.raw, session, () => state, { patch: state, replace: true });
  });

  app.delete('/sessions/:key', async (c) => {
    const session = await store.get(checkKey(c.req.param('key')));
    if (!session) throw sessionNotFound();
    authorize(c.req.raw, session);
    await store.delete(session.key);
    return new Response(null, { status: 204 });
  });
}
