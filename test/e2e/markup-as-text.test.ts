/**
 * State, peer names and ids that carry markup or script reach the page as text: the element's
 * own UI and the demos set text, never HTML. Hostile values are written straight to the API,
 * as a malicious participant would, and the pages are checked for what they show and for any
 * element or script the values could have created.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { demoInChromium } from './support.js';

const IMG = '<img src=x onerror="window.__injected=1">';
const SCRIPT = '<script>window.__injected=2</script>';
const BOLD = '<b id="injected-bold">bold</b>';

/** Counts elements the hostile values could have created, in the page and the element's shadow root. */
const INJECTED_ELEMENTS = `(() => {
  const root = document.querySelector('session-sync')?.shadowRoot;
  const selector = 'img, script:not([type]), #injected-bold';
  const inPage = [...document.querySelectorAll(selector)].filter((el) => !el.src?.includes('session-sync'));
  return inPage.length + (root ? root.querySelectorAll(selector).length : 0);
})()`;

describe('markup in the shared state', { timeout: 120_000 }, () => {
  const demo = demoInChromium();
  let key: string;

  before(async () => {
    const state = {
      messages: { m1: { name: IMG, text: `${SCRIPT}${BOLD}`, at: 1 } },
      players: { X: { id: 'x', name: IMG }, O: { id: 'o', name: SCRIPT } },
      cells: { 0: IMG, 1: 'X' },
      slide: `${BOLD}`,
    };
    const created = await fetch(`${demo.server.url}/sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ state }),
    });
    key = ((await created.json()) as { key: string }).key;
    const presence = await fetch(`${demo.server.url}/sessions/${key}/presence/intruder`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: `${IMG}${SCRIPT}` }),
    });
    assert.equal(presence.status, 200);
  });

  async function open(demoPage: string): Promise<Page> {
    const page = await demo.open(`${demo.server.url}/${demoPage}#session=${key}`);
    await page.waitForFunction(`document.querySelector('session-sync')?.status === 'live'`);
    // Give any injected handler (an image's onerror) the time it would need to run.
    await page.waitForTimeout(300);
    return page;
  }

  it('shows chat messages and names as text', async () => {
    const page = await open('chat.html');

    const shown: string = await page.evaluate(`document.getElementById('log').textContent`);
    const here: string = await page.evaluate(`document.getElementById('here').textContent`);

    assert.ok(shown.includes(IMG) && shown.includes(SCRIPT) && shown.includes(BOLD), shown);
    assert.ok(here.includes(IMG), here);
    assert.equal(await page.evaluate(INJECTED_ELEMENTS), 0);
    assert.equal(await page.evaluate('window.__injected'), undefined);
  });

  it("shows peer names as text in the element's own list", async () => {
    const page = await open('chat.html');

    const peers: string[] = await page.evaluate(
      `[...document.querySelector('session-sync').shadowRoot.querySelectorAll('[part~="peer"]')].map((li) => li.textContent)`,
    );

    assert.ok(
      peers.some((name) => name.includes(IMG) && name.includes(SCRIPT)),
      JSON.stringify(peers),
    );
    assert.equal(await page.evaluate(INJECTED_ELEMENTS), 0);
  });

  it('shows player names as text in the game and ignores markup in the cells', async () => {
    const page = await open('tic-tac-toe.html');

    const text: string = await page.evaluate('document.body.textContent');

    assert.ok(text.includes(IMG) && text.includes(SCRIPT), 'player names are shown as typed');
    assert.equal(await page.evaluate(INJECTED_ELEMENTS), 0);
    assert.equal(await page.evaluate('window.__injected'), undefined);
  });

  it('creates nothing from markup in the presenter state', async () => {
    const page = await open('presenter.html');

    assert.equal(await page.evaluate(INJECTED_ELEMENTS), 0);
    assert.equal(await page.evaluate('window.__injected'), undefined);
  });
});
