/**
 * Three people on the chat demo, each in a browser context of their own: one starts the chat,
 * one joins with the edit link, one reads along with the view-only link.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { START_BUTTON, demoInChromium, waitForAgreement } from './support.js';

const MESSAGES = `[...document.querySelectorAll('#log li')].map((item) => item.textContent)`;
const PEOPLE_HERE = `document.getElementById('here').textContent.split(', ').sort()`;

describe('the chat demo in three browsers', { timeout: 180_000 }, () => {
  const { server, open } = demoInChromium();
  let ada: Page;
  let brook: Page;
  let reader: Page;
  let everyone: Page[];

  it('starts a chat in one page and joins it from the edit and view-only links', async () => {
    ada = await open(`${server.url}/chat.html`);
    await setName(ada, 'Ada');
    await ada.click(START_BUTTON);
    await ada.locator('#room').waitFor({ state: 'visible' });
    const editLink: string = await ada.evaluate(`document.querySelector('session-sync').shareLink`);
    const viewLink: string = await ada.evaluate(`document.querySelector('session-sync').viewLink`);

    brook = await open(editLink);
    await setName(brook, 'Brook');
    reader = await open(viewLink);
    await setName(reader, 'Cleo');
    everyone = [ada, brook, reader];

    for (const page of everyone) await page.locator('#room').waitFor({ state: 'visible' });
  });

  it('lists who is here by the names people chose', async () => {
    await waitForAgreement(everyone, PEOPLE_HERE, ['Ada', 'Brook', 'Cleo']);
  });

  it('shows every message in every page, in the order they were sent', async () => {
    await send(ada, 'Hello from Ada');
    await waitForAgreement(everyone, MESSAGES, ['AdaHello from Ada']);
    await send(brook, 'Hi Ada, Brook here');

    await waitForAgreement(everyone, MESSAGES, ['AdaHello from Ada', 'BrookHi Ada, Brook here']);
  });

  it('keeps both messages when two people send at the same moment', async () => {
    await Promise.all([send(ada, 'same time A'), send(brook, 'same time B')]);

    await waitForAgreement(everyone, `${MESSAGES}.slice(2).sort()`, [
      'Adasame time A',
      'Brooksame time B',
    ]);
  });

  it('gives the view-only reader no way to send', async () => {
    assert.equal(await reader.isHidden('#compose'), true);
    assert.equal(await reader.isVisible('#view-only'), true);
  });
});

async function setName(page: Page, name: string): Promise<void> {
  await page.fill('#name', name);
  await page.dispatchEvent('#name', 'change');
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#compose input[name="text"]', text);
  await page.press('#compose input[name="text"]', 'Enter');
}
