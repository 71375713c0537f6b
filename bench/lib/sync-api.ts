/**
 * The few calls of the session-sync HTTP API the benchmarks need, on plain `node:http` with
 * keep-alive agents (global `fetch` costs the load generator several times more per request).
 */
import { Agent, request } from 'node:http';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Session {
  key: string;
  writeToken: string;
  version: number;
}

/** A keep-alive agent sized for `sockets` requests in flight. */
export function keepAliveAgent(sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/** One HTTP request; resolves with the whole body as text. */
export function send(
  agent: Agent | false,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, agent, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
      );
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** `POST /sessions` with an initial state. */
export async function createSession(
  agent: Agent | false,
  baseUrl: string,
  state: unknown,
): Promise<Session> {
  const reply = await send(
    agent,
    'POST',
    `${baseUrl}/sessions`,
    { 'Content-Type': 'application/json' },
    JSON.stringify({ state }),
  );
  if (reply.status !== 201)
    throw new Error(`POST /sessions answered ${reply.status}: ${reply.body}`);
  const { key, writeToken, version } = JSON.parse(reply.body) as Session;
  return { key, writeToken, version };
}

/**
 * `PATCH /sessions/{key}` with a merge patch, optionally conditional on `ifMatch`.
 * @returns the status and, on 200 or 412, the version the server reported
 */
export async function patchSession(
  agent: Agent | false,
  baseUrl: string,
  session: Session,
  patch: string,
  ifMatch?: number,
): Promise<{ status: number; version: number | undefined }> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/merge-patch+json',
    Authorization: `Bearer ${session.writeToken}`,
  };
  if (ifMatch !== undefined) headers['If-Match'] = `"${ifMatch}"`;
  const reply = await send(agent, 'PATCH', `${baseUrl}/sessions/${session.key}`, headers, patch);
  let version: number | undefined;
  if (reply.status === 200 || reply.status === 412) {
    version = (JSON.parse(reply.body) as { version?: number }).version;
  }
  return { status: reply.status, version };
}

/** Creates `count` sessions holding `state`, `concurrency` requests at a time. */
export async function createSessions(
  baseUrl: string,
  count: number,
  state: unknown,
  concurrency = 16,
): Promise<Session[]> {
  const agent = keepAliveAgent(concurrency);
  const sessions: Session[] = [];
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started += 1;
      sessions.push(await createSession(agent, baseUrl, state));
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return sessions;
}
