/**
 * The element behind an endpoint that refuses event streams, as a serverless function behind
 * an API gateway does (`/events` answers 501): the `auto` transport must settle on long-poll
 * by itself, keep two elements in step, report `live`, and show the user no error.
 *
 * Which transport runs is read from the requests the page makes: the test records each
 * `fetch` and each `EventSource` the page opens (and still lets the real ones run).
 */
import { expect } from '@open-wc/testing';
import type { SessionSync } from '../../src/index.js';
import { noStreamEndpoint } from '/__sync-server.js';
import { syncElement, until } from './support/helpers.js';

interface Sent {
  method: string;
  url: URL;
}

/** Every request the page starts from now on, in order, until `stop()`. */
function recordRequests(): { sent: Sent[]; stop(): void } {
  const sent: Sent[] = [];
  const realFetch = window.fetch;
  const RealEventSource = window.EventSource;
  window.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    sent.push({ method: method.toUpperCase(), url: new URL(url, document.baseURI) });
    return realFetch(input, init);
  };
  window.EventSource = class extends RealEventSource {
    constructor(url: string | URL, init?: EventSourceInit) {
      sent.push({ method: 'EventSource', url: new URL(url, document.baseURI) });
      super(url, init);
    }
  };
  return {
    sent,
    stop() {
      window.fetch = realFetch;
      window.EventSource = RealEventSource;
    },
  };
}

interface Watched {
  errors: Event[];
  statuses: string[];
}

/** Records the `error` events and the statuses an element goes through. */
function watch(element: SessionSync): Watched {
  const watched: Watched = { errors: [], statuses: [] };
  element.addEventListener('error', (event) => watched.errors.push(event));
  element.addEventListener('session-sync-status', (event) =>
    watched.statuses.push((event as CustomEvent<{ status: string }>).detail.status),
  );
  return watched;
}

describe('<session-sync> behind a gateway that cannot stream', () => {
  let requests: ReturnType<typeof recordRequests>;
  beforeEach(() => {
    requests = recordRequests();
  });
  afterEach(() => requests.stop());

  it('settles on long-poll, keeps two elements in step, reports live, and shows no error', async () => {
    const a = await syncElement({ endpoint: noStreamEndpoint });
    const watchedA = watch(a);
    const { key } = await a.start({ moves: [] });
    const b = await syncElement({ endpoint: noStreamEndpoint, session: key, token: a.token! });
    const watchedB = watch(b);
    await until(() => a.status == 'live' && b.status == 'live', 'both elements go live');
    // On this server only long-poll (or polling) can go live, so both have settled by now;
    // what follows must run on long-poll alone.
    const beforeLive = requests.sent.filter((request) => request.url.pathname.includes(key));
    const settledFrom = requests.sent.length;

    const moves: string[] = [];
    for (const [writer, reader, move] of [
      [a, b, 'e4'],
      [b, a, 'e5'],
      [a, b, 'Nf3'],
      [b, a, 'Nc6'],
    ] as const) {
      moves.push(move);
      await writer.update({ moves: [...moves] });
      await until(
        () => JSON.stringify(reader.state) == JSON.stringify({ moves }),
        `the other element sees ${move}`,
      );
    }

    expect(a.state).to.deep.equal({ moves: ['e4', 'e5', 'Nf3', 'Nc6'] });
    expect(b.state).to.deep.equal(a.state);
    expect(b.version).to.equal(a.version);
    expect([a.status, b.status]).to.deep.equal(['live', 'live']);

    const isLongPoll = (request: Sent) =>
      request.url.pathname.endsWith('/changes') && request.url.searchParams.has('wait');
    expect(
      beforeLive.filter((request) => request.method == 'EventSource').length,
      'event streams tried before settling',
    ).to.be.at.least(2);
    const afterSettling = requests.sent
      .slice(settledFrom)
      .filter((request) => request.url.pathname.includes(`/sessions/${key}`));
    expect(afterSettling.filter(isLongPoll).length, 'long-polls').to.be.at.least(4);
    expect(
      afterSettling.filter((request) => request.method == 'EventSource'),
      'event streams opened after settling on long-poll',
    ).to.deep.equal([]);
    expect(
      afterSettling.filter(
        (request) => request.method == 'GET' && request.url.pathname.endsWith(`/sessions/${key}`),
      ),
      'polls after settling on long-poll',
    ).to.deep.equal([]);

    expect(watchedA.errors.concat(watchedB.errors), 'error events').to.deep.equal([]);
    expect(watchedA.statuses.concat(watchedB.statuses), 'statuses').not.to.include('error');
  });
});
