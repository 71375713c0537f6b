/**
 * Three people on the tic-tac-toe demo, each in a browser context of their own: one starts the
 * game, one joins with the edit link and plays, one watches with the view-only link. Then the
 * server dies and comes back empty, and the pages must bring the game back by themselves.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { START_BUTTON, demoInChromium, waitForAgreement } from './support.js';

const BOARD = `[...document.querySelectorAll('[data-cell]')].map((cell) => cell.textContent)`;
const TURN_LINE = `document.getElementById('turn').textContent`;
const ALL_CELLS_DISABLED = `[...document.querySelectorAll('[data-cell]')].every((cell) => cell.disabled)`;
const STATUS = `document.querySelector('session-sync').status`;

describe('the tic-tac-toe demo in three browsers', { timeout: 240_000 }, () => {
  const { server, open } = demoInChromium();
  let playerX: Page;
  let playerO: Page;
  let spectator: Page;
  let everyone: Page[];
  let key: string;

  it('starts a game in one page and seats a second player who opens the edit link', async () => {
    playerX = await open(`${server.url}/tic-tac-toe.html`);
    await setName(playerX, 'Ada');
    await playerX.click(START_BUTTON);
    await playerX.locator('#game').waitFor({ state: 'visible' });
    key = await playerX.evaluate(`document.querySelector('session-sync').session`);
    const editLink: string = await playerX.evaluate(
      `document.querySelector('session-sync').shareLink`,
    );
    const viewLink: string = await playerX.evaluate(
      `document.querySelector('session-sync').viewLink`,
    );

    playerO = await open(editLink);
    await setName(playerO, 'Brook');
    spectator = await open(viewLink);
    await setName(spectator, 'Cleo');
    everyone = [playerX, playerO, spectator];

    await waitForAgreement(
      [playerX, playerO],
      `document.getElementById('seats').textContent.split(' · ').slice(0, 2)`,
      ['X: Ada', 'O: Brook'],
    );
    assert.match((await playerO.textContent('#seats')) ?? '', /you play O/);
  });

  it('shows the spectator the game without letting them take a seat', async () => {
    await spectator.locator('#game').waitFor({ state: 'visible' });

    assert.match((await spectator.textContent('#seats')) ?? '', /you are watching/);
    assert.equal(await spectator.evaluate(ALL_CELLS_DISABLED), true);
  });

  it('lets only the player whose turn it is move', async () => {
    await waitForAgreement([playerX], TURN_LINE, 'Your turn (X)');

    assert.equal(await playerO.evaluate(ALL_CELLS_DISABLED), true);
    assert.equal(await playerX.evaluate(ALL_CELLS_DISABLED), false);
  });

  it('plays a full game to a win that every page shows on the same board', async () => {
    // X takes the top row while O answers in the middle row.
    const moves: Array<[Page, number]> = [
      [playerX, 0],
      [playerO, 3],
      [playerX, 1],
      [playerO, 4],
      [playerX, 2],
    ];
    const board = Array<string>(9).fill('');
    for (const [page, cell] of moves) {
      const mark = page === playerX ? 'X' : 'O';
      await page.click(`[data-cell="${cell}"]`);
      board[cell] = mark;
      await waitForAgreement(everyone, BOARD, board);
      // Having moved, the player waits for the other one.
      assert.equal(await page.evaluate(ALL_CELLS_DISABLED), true);
    }

    await waitForAgreement(everyone, TURN_LINE, 'X wins');
    for (const page of everyone) assert.equal(await page.evaluate(ALL_CELLS_DISABLED), true);
    const stored = await server.readSession(key);
    assert.deepEqual(stored.body.state.cells, { 0: 'X', 3: 'O', 1: 'X', 4: 'O', 2: 'X' });

    if (process.env.UPDATE_SCREENSHOT === '1') await saveScreenshot(playerX, playerO);
  });

  it('refuses a write from the view-only page and leaves the stored game unchanged', async () => {
    const stored = await server.readSession(key);

    const outcome = await spectator.evaluate(`(async () => {
      const sync = document.querySelector('session-sync');
      const codes = [];
      sync.addEventListener('error', (event) => codes.push(event.detail.code), { once: true });
      try {
        await sync.update({ cells: { 8: 'O' } });
        return { refused: false, codes };
      } catch (error) {
        return { refused: true, codes, cell: sync.state.cells['8'] ?? null };
      }
    })()`);

    assert.deepEqual(outcome, { refused: true, codes: ['forbidden'], cell: null });
    const afterwards = await server.readSession(key);
    assert.equal(afterwards.body.version, stored.body.version);
  });

  it('brings the game back without a reload after the server restarts empty', async () => {
    await playerX.click('#again');
    await waitForAgreement(everyone, BOARD, Array(9).fill(''));
    await playerX.click('[data-cell="4"]');
    await waitForAgreement(everyone, BOARD, ['', '', '', '', 'X', '', '', '', '']);
    for (const page of everyone) {
      await page.evaluate(`(() => {
        window.stillTheSamePage = true;
        window.recoveries = 0;
        document.querySelector('session-sync').addEventListener('session-sync-ready', (event) => {
          if (event.detail.recovered) window.recoveries += 1;
        });
      })()`);
    }

    await server.kill();
    await waitForAgreement(everyone, `${STATUS} !== 'live'`, true);
    await server.start();

    await waitForAgreement(everyone, STATUS, 'live', 60_000);
    const recreated = await server.readSession(key);
    assert.equal(recreated.status, 200);
    assert.deepEqual(recreated.body.state.cells, { 4: 'X' });
    assert.equal(recreated.body.state.round, 2);
    const recoveries = await Promise.all(
      [playerX, playerO].map((page) => page.evaluate(`window.recoveries`)),
    );
    assert.ok(
      recoveries.some((count) => count === 1),
      `recoveries: ${recoveries}`,
    );

    await playerO.click('[data-cell="0"]');
    await waitForAgreement(everyone, BOARD, ['O', '', '', '', 'X', '', '', '', '']);
    await waitForAgreement(everyone, `window.stillTheSamePage`, true);
  });

  it('keeps a move made while the server is down and shows it once the server is back', async () => {
    await server.kill();
    await waitForAgreement(everyone, `${STATUS} !== 'live'`, true);
    await playerX.click('[data-cell="8"]');
    await server.start();

    const board = ['O', '', '', '', 'X', '', '', '', 'X'];
    await waitForAgreement(everyone, BOARD, board, 60_000);
    const stored = await server.readSession(key);
    assert.deepEqual(stored.body.state.cells, { 0: 'O', 4: 'X', 8: 'X' });
  });
});

async function setName(page: Page, name: string): Promise<void> {
  await page.fill('#name', name);
  await page.dispatchEvent('#name', 'change');
}

/** Writes docs/screenshot.png: the two players' windows side by side, as the README shows. */
async function saveScreenshot(left: Page, right: Page): Promise<void> {
  const shots = await Promise.all(
    [left, right].map(async (page) => (await page.screenshot()).toString('base64')),
  );
  const context = await left
    .context()
    .browser()!
    .newContext({
      viewport: { width: 1080, height: 740 },
    });
  const page = await context.newPage();
  await page.setContent(`<body style="margin:0;padding:10px;background:#8a94a6;display:flex;gap:20px">
    ${shots.map((shot) => `<img src="data:image/png;base64,${shot}" width="520" height="720">`).join('')}
  </body>`);
  await mkdir(new URL('../../docs/', import.meta.url), { recursive: true });
  await writeFile(new URL('../../docs/screenshot.png', import.meta.url), await page.screenshot());
  await context.close();
}
