import { expect } from '@open-wc/testing';
import type { SyncError } from '../../src/index.js';
import { eventAfter, syncElement, until } from './support/helpers.js';

describe('<session-sync>: starting and joining', () => {
  it('starts a session and holds its key and write token', async () => {
    const el = await syncElement();

    const ready = await el.start({ turn: 'x' });

    expect(ready.key).to.match(/^[A-Za-z0-9_-]{22,}$/);
    expect(el.session).to.equal(ready.key);
    expect(el.getAttribute('session')).to.equal(ready.key);
    expect(el.token).to.be.a('string').and.not.empty;
    expect(el.canWrite).to.be.true;
    expect(el.state).to.deep.equal({ turn: 'x' });
    await until(() => el.status == 'live', 'the element never went live');
  });

  it('joins a session by key and token and sees its state', async () => {
    const first = await syncElement();
    const { key } = await first.start({ board: [1, 2] });
    const second = await syncElement();

    const ready = await second.join(key, first.token);

    expect(ready.state).to.deep.equal({ board: [1, 2] });
    expect(second.canWrite).to.be.true;
  });

  it('carries a change from one element to another live', async () => {
    const a = await syncElement();
    const { key } = await a.start({});
    const b = await syncElement({ session: key, token: a.token! });
    await until(() => b.status == 'live' && a.status == 'live', 'both elements go live');

    const change = await eventAfter<CustomEvent>(b, 'session-sync-change', () =>
      a.update({ move: 'e4' }),
    );

    expect(change.detail.origin).to.equal('remote');
    expect(change.detail.state).to.deep.equal({ move: 'e4' });
    expect(b.state).to.deep.equal({ move: 'e4' });
  });

  it('refuses a write from a view-only element with a forbidden error and changes nothing', async () => {
    const owner = await syncElement();
    const { key } = await owner.start({ score: 1 });
    const viewer = await syncElement();
    await viewer.join(key);

    const errorEvent = eventAfter<CustomEvent<SyncError>>(viewer, 'error', () => {});
    const refusal = await viewer.update({ score: 99 }).catch((error: SyncError) => error);

    expect(viewer.canWrite).to.be.false;
    expect(refusal.code).to.equal('forbidden');
    expect((await errorEvent).detail.code).to.equal('forbidden');
    expect(viewer.state).to.deep.equal({ score: 1 });
  });

  it('leaves when removed from the page and joins again when put back', async () => {
    const el = await syncElement();
    const { key } = await el.start({ kept: true });
    await until(() => el.status == 'live', 'goes live');
    const parent = el.parentNode!;

    el.remove();
    await until(() => el.status == 'idle', 'leaves once removed');
    parent.append(el);
    await until(() => el.status == 'live', 'joins again once back');

    expect(el.session).to.equal(key);
    expect(el.state).to.deep.equal({ kept: true });
  });
});
