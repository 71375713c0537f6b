/**
 * The two remaining demo pages, each in two browser contexts: the presenter's audience follows
 * the slide on the view-only link, and the zero-script form is shared through `bind`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { START_BUTTON, demoInChromium, waitForAgreement } from './support.js';

const SLIDE_TITLE = `document.getElementById('title').textContent`;

describe('the presenter and form demos', { timeout: 180_000 }, () => {
  const { server, open } = demoInChromium();

  it('moves the audience on the view-only link to the slide the presenter shows', async () => {
    const presenter = await open(`${server.url}/presenter.html`);
    await presenter.click(START_BUTTON);
    await presenter.locator('#talk').waitFor({ state: 'visible' });
    const viewLink: string = await presenter.evaluate(
      `document.querySelector('session-sync').viewLink`,
    );
    const audience = await open(viewLink);
    await waitForAgreement([presenter, audience], SLIDE_TITLE, 'One JSON state, many browsers');

    await presenter.click('#next');
    await presenter.keyboard.press('ArrowRight');

    await waitForAgreement([presenter, audience], SLIDE_TITLE, 'Changes travel as merge patches');
    assert.equal(await audience.isHidden('#next'), true);
  });

  it('shares what two editors type into the bound form with every window, viewers read-only', async () => {
    const first = await open(`${server.url}/form.html`);
    await first.click(START_BUTTON);
    await first.waitForFunction(`document.querySelector('session-sync').status === 'live'`);
    const editLink: string = await first.evaluate(
      `document.querySelector('session-sync').shareLink`,
    );
    const viewLink: string = await first.evaluate(
      `document.querySelector('session-sync').viewLink`,
    );
    const second = await open(editLink);
    const viewer = await open(viewLink);
    for (const page of [second, viewer]) {
      await page.waitForFunction(`document.querySelector('session-sync').status === 'live'`);
    }

    await first.fill('input[name="destination"]', 'Lisbon');
    await first.check('input[name="transport"][value="bus"]');
    await second.check('input[name="insurance"]');
    await second.selectOption('select[name="budget"]', 'Anything goes');

    const formValues = `(() => {
      const form = document.getElementById('trip');
      return {
        destination: form.elements.destination.value,
        transport: form.elements.transport.value,
        insurance: form.elements.insurance.checked,
        budget: form.elements.budget.value,
      };
    })()`;
    await waitForAgreement([first, second, viewer], formValues, {
      destination: 'Lisbon',
      transport: 'bus',
      insurance: true,
      budget: 'Anything goes',
    });
    assert.equal(await viewer.evaluate(`document.getElementById('trip').inert`), true);
  });
});
