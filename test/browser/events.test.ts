import { expect, fixture, html } from '@open-wc/testing';
import type { SessionSync, SyncError } from '../../src/index.js';
import { endpoint, errorsSeen, eventAfter, syncElement, until } from './support/helpers.js';

describe('<session-sync>: events', () => {
  it('session-sync-ready carries the key, version, state and write access', async () => {
    const el = await syncElement();

    const ready = await eventAfter<CustomEvent>(el, 'session-sync-ready', () => el.start({ a: 1 }));

    expect(ready.detail).to.include({ key: el.session, canWrite: true, recovered: false });
    expect(ready.detail.version).to.be.a('number');
    expect(ready.detail.state).to.deep.equal({ a: 1 });
  });

  it('session-sync-change tells local writes at once and does not repeat their echo', async () => {
    const el = await syncElement();
    await el.start({ n: 0 });
    await until(() => el.status == 'live', 'goes live');
    const changes: CustomEvent[] = [];
    el.addEventListener('session-sync-change', (e) => changes.push(e));

    const accepted = el.update({ n: 1 });
    expect(changes).to.have.length(1);
    await accepted;
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(changes).to.have.length(1);
    expect(changes[0].detail).to.deep.include({
      origin: 'local',
      patch: { n: 1 },
      state: { n: 1 },
    });
  });

  it('session-sync-change marks changes from elsewhere as remote, with their patch', async () => {
    const a = await syncElement();
    const { key } = await a.start({ keep: 1, drop: 2 });
    const b = await syncElement({ session: key });
    await until(() => b.status == 'live', 'b goes live');

    const change = await eventAfter<CustomEvent>(b, 'session-sync-change', () =>
      a.update({ drop: null, add: 3 }),
    );

    expect(change.detail.origin).to.equal('remote');
    expect(change.detail.patch).to.deep.equal({ drop: null, add: 3 });
    expect(change.detail.state).to.deep.equal({ keep: 1, add: 3 });
    expect(change.detail.version).to.equal(a.version);
  });

  it('session-sync-status goes from connecting to live', async () => {
    const el = await syncElement();
    const statuses: string[] = [];
    el.addEventListener('session-sync-status', (e) => statuses.push(e.detail.status));

    await el.start();
    await until(() => el.status == 'live', 'goes live');

    expect(statuses).to.deep.equal(['connecting', 'live']);
  });

  it('session-sync-presence lists everyone who is here', async () => {
    const a = await syncElement({ name: 'one' });
    const { key } = await a.start();

    const presence = new Promise<CustomEvent>((resolve) =>
      a.addEventListener('session-sync-presence', (e) => e.detail.peers.length == 2 && resolve(e)),
    );
    await syncElement({ name: 'two', session: key });

    expect((await presence).detail.peers).to.have.length(2);
  });

  it('error carries a typed error when a session does not exist', async () => {
    const el = await syncElement();

    const errorEvent = eventAfter<CustomEvent<SyncError>>(el, 'error', () =>
      el.join('AAAAAAAAAAAAAAAAAAAAAAAA').catch(() => {}),
    );

    expect((await errorEvent).detail.code).to.equal('session-not-found');
    expect(el.status).to.equal('error');
  });

  it('every event bubbles and crosses shadow roots', async () => {
    const host = await fixture<HTMLElement>(html`<div></div>`);
    const root = host.attachShadow({ mode: 'open' });
    const el = document.createElement('session-sync') as SessionSync;
    el.endpoint = endpoint;
    el.headless = true;
    root.append(el);
    const heard = new Set<string>();
    const types = [
      'session-sync-ready',
      'session-sync-change',
      'session-sync-status',
      'session-sync-presence',
      'error',
    ];
    for (const type of types) document.addEventListener(type, () => heard.add(type));

    await el.start({ x: 1 });
    await el.update({ x: 2 });
    await until(() => heard.has('session-sync-presence'), 'presence reaches the document');
    await el.replace(null).catch(() => {});
    const before = errorsSeen.length;
    el.token = undefined;
    await el.updateComplete;
    await el.update({ x: 3 }).catch(() => {});
    await until(() => heard.has('error'), 'error reaches the document');

    expect([...heard].sort()).to.deep.equal([...types].sort());
    expect(errorsSeen.length).to.be.greaterThan(before);
  });
});
