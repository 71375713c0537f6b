import { expect } from '@open-wc/testing';
import { SyncClient, type SyncChangeDetail } from '../../src/index.js';
import { endpoint, until } from './support/helpers.js';

describe('SyncClient without an element', () => {
  const clients: SyncClient[] = [];
  const client = (options = {}) => {
    const created = new SyncClient({ endpoint, ...options });
    clients.push(created);
    return created;
  };
  afterEach(() => Promise.all(clients.splice(0).map((c) => c.leave())));

  it('starts, joins and syncs with no DOM element at all', async () => {
    const a = client();
    const { key } = await a.start({ list: [] });
    const b = client();
    await b.join(key, a.token);

    await a.update({ list: ['milk'] });
    await until(() => b.version == a.version, 'b catches up');

    expect(b.state).to.deep.equal({ list: ['milk'] });
  });

  it('coalesces writes made while one is in flight into fewer requests', async () => {
    const a = client();
    const { version: start } = await a.start({});

    const versions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.update({ [`k${i}`]: i })),
    );

    expect(Object.keys(a.state as object)).to.have.length(20);
    expect(versions[19] - start).to.be.lessThan(20);
  });

  it('rebases a pending write on a newer state after a version conflict', async () => {
    const a = client();
    const { key } = await a.start({ a: 0, b: 0 });
    const statuses: number[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method == 'PATCH') statuses.push(response.status);
      return response;
    };
    const b = client({ transport: 'poll', pollIntervalMs: 60_000, fetch: recordingFetch });
    await b.join(key, a.token);
    await until(() => b.status == 'live', 'b has polled once');
    await a.update({ a: 1 });

    // b has not heard of a's write: its If-Match is stale, the server answers 412.
    await b.update({ b: 1 });
    await until(() => a.version == b.version, 'a hears b');

    expect(statuses).to.deep.equal([412, 200]);
    expect(b.state).to.deep.equal({ a: 1, b: 1 });
    expect(a.state).to.deep.equal({ a: 1, b: 1 });
  });

  it('does not apply the echo of its own change a second time', async () => {
    const a = client();
    await a.start({ list: [] });
    await until(() => a.status == 'live', 'goes live');
    const changes: SyncChangeDetail[] = [];
    a.on('change', (change) => changes.push(change));

    await a.update({ list: ['once'] });
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(changes.map((c) => c.origin)).to.deep.equal(['local']);
    expect(a.state).to.deep.equal({ list: ['once'] });
  });

  it('refuses a write that is too large, takes it back and reports too-large', async () => {
    const a = client();
    await a.start({ small: true });
    const errors: string[] = [];
    a.on('error', (error) => errors.push(error.code));

    const refusal = await a.update({ big: 'x'.repeat(300 * 1024) }).catch((error) => error);

    expect(refusal.code).to.equal('too-large');
    expect(errors).to.deep.equal(['too-large']);
    expect(a.state).to.deep.equal({ small: true });
  });

  it('throws at once when the endpoint is not a URL', () => {
    expect(() => new SyncClient({ endpoint: 'http://[bad' })).to.throw(TypeError);
  });

  it('polls slowly while the page is hidden and catches up as soon as it is seen', async () => {
    const writer = client();
    const { key } = await writer.start({ seen: 0 });
    const reader = client({ transport: 'poll', pollIntervalMs: 50, hiddenPollIntervalMs: 60_000 });
    await reader.join(key);
    await until(() => reader.status == 'live', 'the reader polls');

    const setHidden = (hidden: boolean) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
      // As the browser does: at the document, bubbling to the window.
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    };
    try {
      setHidden(true);
      // One more quick poll may be on its way; after it the hidden interval applies.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await writer.update({ seen: 1 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(reader.state).to.deep.equal({ seen: 0 });

      setHidden(false);
      await until(() => (reader.state as { seen: number }).seen == 1, 'caught up once seen');
    } finally {
      delete (document as { hidden?: boolean }).hidden;
    }
  });
});
