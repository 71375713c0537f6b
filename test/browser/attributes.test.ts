import { expect, fixture, html } from '@open-wc/testing';
import type { SessionSync, SyncError } from '../../src/index.js';
import { endpoint, syncElement, until } from './support/helpers.js';

describe('<session-sync>: attributes', () => {
  afterEach(() => history.replaceState(null, '', location.href.replace(/#.*/, '')));

  it('endpoint: resolves a relative URL against the document base URL', async () => {
    const base = document.createElement('base');
    base.href = `${endpoint}/`;
    document.head.append(base);
    try {
      const el = await fixture<SessionSync>(
        html`<session-sync endpoint="/" headless></session-sync>`,
      );
      const { key } = await el.start({ relative: true });

      const response = await fetch(`${endpoint}/sessions/${key}`);
      expect((await response.json()).state).to.deep.equal({ relative: true });
    } finally {
      base.remove();
    }
  });

  it('session: setting it joins that session, removing it leaves', async () => {
    const owner = await syncElement();
    const { key } = await owner.start({ here: 1 });
    const el = await syncElement();

    el.setAttribute('session', key);
    await until(() => el.status == 'live', 'joins the session from the attribute');
    expect(el.state).to.deep.equal({ here: 1 });

    el.removeAttribute('session');
    await until(() => el.status == 'idle', 'leaves when the attribute goes');
    expect(el.state).to.equal(null);
  });

  it('token: present grants writing, absent means view-only', async () => {
    const owner = await syncElement();
    const { key } = await owner.start({});

    const writer = await syncElement({ session: key, token: owner.token! });
    const viewer = await syncElement({ session: key });
    await until(() => writer.status == 'live' && viewer.status == 'live', 'both go live');

    expect(writer.canWrite).to.be.true;
    expect(viewer.canWrite).to.be.false;
    expect(viewer.hasAttribute('token')).to.be.false;
  });

  it('token: adding it to a view-only element makes it a writer', async () => {
    const owner = await syncElement();
    const { key } = await owner.start({});
    const el = await syncElement({ session: key });
    await until(() => el.status == 'live', 'joins view-only');

    el.token = owner.token;
    await until(() => el.canWrite && el.status == 'live', 'joins again with the token');

    expect(await el.update({ upgraded: true })).to.be.a('number');
  });

  it('token: a token the server refuses is dropped, and the element stays a viewer', async () => {
    const owner = await syncElement();
    const { key } = await owner.start({ safe: true });
    const el = await syncElement({ session: key, token: 'W'.repeat(24) });
    await until(() => el.status == 'live', 'joins');

    const refusal = await el.update({ safe: false }).catch((error: SyncError) => error);

    expect(refusal.code).to.equal('forbidden');
    expect(el.canWrite).to.be.false;
    expect(el.hasAttribute('token')).to.be.false;
    expect(el.state).to.deep.equal({ safe: true });
    expect(el.status).to.equal('live');
  });

  it('transport and poll-interval: polling keeps two elements in step', async () => {
    const a = await syncElement({ transport: 'poll', 'poll-interval': '100' });
    const { key } = await a.start({ polled: 0 });
    const b = await syncElement({ transport: 'poll', 'poll-interval': '100', session: key });
    await until(() => b.status == 'live', 'the poller goes live');

    await a.update({ polled: 1 });
    await until(() => (b.state as { polled: number }).polled == 1, 'the poller sees the change');

    expect(b.transport).to.equal('poll');
    expect(b.pollInterval).to.equal(100);
  });

  it('transport and poll-interval: bad values fall back to their defaults', async () => {
    const el = await syncElement({ transport: 'pigeon', 'poll-interval': '-3' });

    expect(el.transport).to.equal('auto');
    expect(el.getAttribute('transport')).to.equal('auto');
    expect(el.pollInterval).to.equal(5000);
  });

  it('name: is shown to the other people in the session', async () => {
    const a = await syncElement({ name: 'Ada' });
    const { key } = await a.start({});
    const b = await syncElement({ name: 'Grace', session: key });

    await until(() => b.peers.length == 2 && a.peers.length == 2, 'both see two peers');
    const names = b.peers.map((peer) => (peer.data as { name: string }).name).sort();

    expect(names).to.deep.equal(['Ada', 'Grace']);
  });

  it('link: writes the session into the URL fragment and joins from it', async () => {
    const a = await syncElement({ link: '' });
    const { key } = await a.start({ linked: true });
    expect(location.hash).to.contain(`session=${key}`);
    expect(location.hash).to.contain(`token=${a.token}`);

    const b = await fixture<SessionSync>(
      html`<session-sync endpoint=${endpoint} link headless></session-sync>`,
    );
    await until(() => b.status == 'live', 'b joins from the fragment');

    expect(b.session).to.equal(key);
    expect(b.canWrite).to.be.true;
    expect(b.state).to.deep.equal({ linked: true });
    expect(a.shareLink).to.equal(location.href);
    expect(a.viewLink).to.contain(`#session=${key}`).and.not.contain('token=');
  });

  it('headless: renders nothing, and the default UI without it', async () => {
    const el = await syncElement();
    expect(el.shadowRoot!.childElementCount).to.equal(0);

    el.headless = false;
    await el.updateComplete;

    expect(el.shadowRoot!.querySelector('[part~="start"]')).to.exist;
    expect(el.hasAttribute('headless')).to.be.false;
  });
});
