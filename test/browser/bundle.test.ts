import { expect } from '@open-wc/testing';
import type { SessionSync } from '../../src/index.js';
import { endpoint, until } from './support/helpers.js';

/** Opens the bundle page in an iframe and returns its `<session-sync>`, once it is defined. */
async function openPage(hash = ''): Promise<{ frame: HTMLIFrameElement; el: SessionSync }> {
  const frame = document.createElement('iframe');
  frame.src = `/test/browser/fixtures/bundle-page.html${hash}`;
  document.body.append(frame);
  await until(
    () => frame.contentWindow?.customElements?.get('session-sync'),
    'the bundle defines the element',
  );
  const el = frame.contentDocument!.querySelector('session-sync') as SessionSync;
  return { frame, el };
}

describe('dist/session-sync.min.js', () => {
  const frames: HTMLIFrameElement[] = [];
  afterEach(() => frames.splice(0).forEach((frame) => frame.remove()));

  it('loads from a plain script tag and syncs two pages', async () => {
    const first = await openPage();
    frames.push(first.frame);
    first.el.setAttribute('endpoint', endpoint);
    await first.el.start({ from: 'bundle' });

    // The second page is opened with the link the first one shares.
    const second = await openPage(new URL(first.el.shareLink).hash);
    frames.push(second.frame);
    second.el.setAttribute('endpoint', endpoint);
    await until(
      () => second.el.status == 'live' && first.el.status == 'live',
      'both pages go live',
    );
    await first.el.update({ moved: true });
    await until(
      () => (second.el.state as { moved?: boolean }).moved,
      'the second page sees the change',
    );

    expect(second.el.state).to.deep.equal({ from: 'bundle', moved: true });
    expect(second.el.canWrite).to.be.true;
    // It is the bundle's own class, not the one the test files import.
    expect(second.el.constructor).to.equal(
      second.frame.contentWindow!.customElements.get('session-sync'),
    );
    expect(customElements.get('session-sync')).to.not.equal(second.el.constructor);
  });
});
