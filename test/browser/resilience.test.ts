import { expect } from '@open-wc/testing';
import type { SyncReadyDetail } from '../../src/index.js';
import { SyncClient } from '../../src/index.js';
import { noStreamEndpoint } from '/__sync-server.js';
import { endpoint, eventAfter, serverCommand, syncElement, until } from './support/helpers.js';

describe('<session-sync>: flaky networks and servers', () => {
  it('queues writes made offline, shows them at once, and sends them when back online', async () => {
    const writer = await syncElement();
    const { key } = await writer.start({ moves: 0 });
    const reader = await syncElement({ session: key });
    await until(() => writer.status == 'live' && reader.status == 'live', 'both go live');

    await serverCommand('sync-server:offline', { forMs: 1500 });
    await until(() => writer.status == 'offline', 'the writer notices it is offline');
    const first = writer.update({ moves: 1 });
    const second = writer.update({ last: 'e4' });

    expect(writer.state).to.deep.equal({ moves: 1, last: 'e4' });
    const versions = await Promise.all([first, second]);
    await until(() => reader.version == versions[1], 'the reader receives the flushed writes');

    // Both writes went out coalesced, as one accepted version.
    expect(versions[0]).to.equal(versions[1]);
    expect(reader.state).to.deep.equal({ moves: 1, last: 'e4' });
  });

  it('keeps concurrent updates of different keys from two writers', async () => {
    const a = await syncElement();
    const { key } = await a.start({});
    const b = await syncElement({ session: key, token: a.token! });
    await until(() => a.status == 'live' && b.status == 'live', 'both go live');

    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => a.update({ [`a${i}`]: i })),
      ...Array.from({ length: 5 }, (_, i) => b.update({ [`b${i}`]: i })),
    ]);
    const expected = { a0: 0, a1: 1, a2: 2, a3: 3, a4: 4, b0: 0, b1: 1, b2: 2, b3: 3, b4: 4 };
    await until(
      () => a.version == b.version && JSON.stringify(a.state) == JSON.stringify(b.state),
      'a and b agree',
    );

    expect(a.state).to.deep.equal(expected);
    expect(b.state).to.deep.equal(expected);
  });

  it('reconnects after the server drops its streams and catches up on what it missed', async () => {
    const a = await syncElement();
    const { key } = await a.start({ n: 0 });
    const b = await syncElement({ session: key });
    await until(() => b.status == 'live', 'b goes live');

    const statuses: string[] = [];
    b.addEventListener('session-sync-status', (e) => statuses.push(e.detail.status));
    await serverCommand('sync-server:restart');
    await a.update({ n: 1 });
    await until(
      () => b.status == 'live' && (b.state as { n: number }).n == 1,
      'b is live again with n = 1',
    );

    expect(statuses).to.include('reconnecting');
  });

  it('falls back to long-poll when the server cannot stream, and still syncs live', async () => {
    const a = await syncElement({ endpoint: noStreamEndpoint });
    const { key } = await a.start({ seen: false });
    const b = await syncElement({ endpoint: noStreamEndpoint, session: key });
    await until(() => b.status == 'live' && b.version == a.version, 'b goes live without streams');

    await a.update({ seen: true });
    await until(() => (b.state as { seen: boolean }).seen, 'b sees the change');

    expect(b.state).to.deep.equal({ seen: true });
  });

  it('re-creates a session the server lost, with its last state, and says so', async () => {
    const writer = await syncElement();
    const { key } = await writer.start({ kept: 'yes' });
    const viewer = await syncElement({ session: key });
    await until(() => writer.status == 'live' && viewer.status == 'live', 'both go live');

    const recovered = eventAfter<CustomEvent<SyncReadyDetail>>(writer, 'session-sync-ready', () =>
      serverCommand('sync-server:forget', { key }),
    );
    const { detail } = await recovered;
    await writer.update({ after: 1 });
    await until(() => (viewer.state as { after?: number }).after == 1, 'the viewer follows again');

    expect(detail.recovered).to.be.true;
    expect(detail.state).to.deep.equal({ kept: 'yes' });
    expect(viewer.state).to.deep.equal({ kept: 'yes', after: 1 });
  });

  it('shows a write made after the server lost the session to a reader that was cut off meanwhile', async () => {
    const writer = await syncElement();
    const { key } = await writer.start({ n: 0 });
    await writer.update({ n: 1 });
    // The reader's network can be cut: its requests fail as they would offline.
    let cut = false;
    const reader = new SyncClient({
      endpoint,
      transport: 'long-poll',
      retryMaxDelayMs: 300,
      fetch: (input, init) => (cut ? Promise.reject(new TypeError('cut')) : fetch(input, init)),
    });
    await reader.join(key);
    await until(
      () => reader.status == 'live' && reader.version == writer.version,
      'the reader is current',
    );
    const versionBefore = reader.version;

    cut = true;
    await serverCommand('sync-server:forget', { key });
    await until(() => reader.status == 'reconnecting', 'the reader notices');
    await until(
      () => writer.status == 'live' && writer.version == 0,
      'the writer re-creates the session',
    );
    expect(await writer.update({ n: 2 })).to.equal(versionBefore);
    cut = false;
    await until(() => (reader.state as { n: number }).n == 2, 'the reader sees the new write');
    const { version } = reader;
    await reader.leave();

    // Same version as before the loss, other state: the reader was not fooled by the number.
    expect(version).to.equal(versionBefore);
  });
});
