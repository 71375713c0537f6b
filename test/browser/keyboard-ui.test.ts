import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import type { SessionSync } from '../../src/index.js';
import { endpoint, until } from './support/helpers.js';

const focused = (el: SessionSync) => el.shadowRoot!.activeElement as HTMLElement | null;

describe('<session-sync>: the default UI with the keyboard only', () => {
  it('starts a session with Tab and Enter, then offers the links and leave', async () => {
    const el = await fixture<SessionSync>(html`<session-sync endpoint=${endpoint}></session-sync>`);

    await sendKeys({ press: 'Tab' });
    expect(focused(el)?.getAttribute('part')).to.equal('button start');
    await sendKeys({ press: 'Enter' });
    await until(() => el.status == 'live', 'the session starts');
    const status = el.shadowRoot!.querySelector('[part="status"]')!;
    expect(status.textContent).to.equal('Live');
    expect(status.getAttribute('role')).to.equal('status');

    await sendKeys({ press: 'Tab' });
    expect(focused(el)?.textContent?.trim()).to.equal('Copy edit link');
    await sendKeys({ press: 'Enter' });
    const notice = el.shadowRoot!.querySelector('[part="notice"]')!;
    await until(() => notice.textContent, 'copying says what happened');
    expect([el.shareLink, 'Link copied']).to.include(notice.textContent);

    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Tab' });
    expect(focused(el)?.textContent?.trim()).to.equal('Leave');
    await sendKeys({ press: 'Enter' });
    await until(() => el.status == 'idle', 'leaving ends the session here');
  });

  it('joins by a typed key from the labelled field, view-only', async () => {
    const owner = await fixture<SessionSync>(
      html`<session-sync endpoint=${endpoint} headless></session-sync>`,
    );
    const { key } = await owner.start({ shared: true });
    const el = await fixture<SessionSync>(html`<session-sync endpoint=${endpoint}></session-sync>`);
    const input = el.shadowRoot!.querySelector('input')!;

    expect(input.labels![0].textContent).to.contain('Session key');
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Tab' });
    expect(focused(el)).to.equal(input);
    await sendKeys({ type: key });
    await sendKeys({ press: 'Enter' });
    await until(() => el.status == 'live', 'joins the typed session');

    expect(el.state).to.deep.equal({ shared: true });
    expect(el.canWrite).to.be.false;
    expect(el.shadowRoot!.querySelector('[part="status"]')!.textContent).to.equal(
      'Live (view only)',
    );
  });
});
