/**
 * What the end-to-end tests share: the demo server started the way a user starts it (as a
 * child process running `scripts/demo.mjs`), and Debian's Chromium driven by playwright-core.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { CHROMIUM_ARGS, SANDBOX_ARGS, findChromium } from '../support/chromium.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The element's own "start" button, inside its shadow root (Playwright's CSS pierces it). */
export const START_BUTTON = 'session-sync [part~="start"]';
const SERVER_START_TIMEOUT_MS = 20_000;

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [...CHROMIUM_ARGS, ...SANDBOX_ARGS],
    timeout: 60_000,
  });
}

/** A separate browser context (its own storage), as a different person's browser would be. */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const context: BrowserContext = await browser.newContext({
    viewport: { width: 520, height: 720 },
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  page.on('pageerror', (error) => {
    process.stderr.write(`page error on ${page.url()}: ${error.message}\n`);
  });
  await page.goto(url);
  return page;
}

/**
 * Starts the demo server and Chromium before a suite's tests and stops both after them, so
 * each suite talks to a server of its own, as a user who ran `npm start` would.
 * @returns the server, and `open(url)` for a page in a browser context of its own
 */
export function demoInChromium(): { server: DemoServer; open(url: string): Promise<Page> } {
  const server = new DemoServer();
  let browser: Browser | undefined;

  before(async () => {
    await server.start(0);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server.kill();
  });

  return { server, open: (url) => openPage(browser!, url) };
}

/** The demo server as a child process; `start` may be called again after `kill`. */
export class DemoServer {
  #child: ChildProcess | undefined;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts `node scripts/demo.mjs` on `port` (0: a free one) and waits for its URL line. */
  async start(port = this.port): Promise<void> {
    const child = spawn(process.execPath, ['scripts/demo.mjs', '--port', String(port)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    // A test file that dies without running its `after` hooks must not leave the server behind.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    let errorOutput = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      errorOutput = (errorOutput + chunk).slice(-4000);
    });

    const lines = createInterface({ input: child.stdout });
    const listening = new Promise<number>((resolve, reject) => {
      lines.on('line', (line) => {
        const match = line.match(/open http:\/\/[^\s:]+:(\d+)\//);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code, signal) =>
        reject(
          new Error(`demo server exited (${code ?? signal}) before listening:\n${errorOutput}`),
        ),
      );
    });
    // Keep reading so the child never blocks on a full pipe.
    child.stdout.resume();

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`demo server did not print its URL within ${SERVER_START_TIMEOUT_MS} ms`),
          ),
        SERVER_START_TIMEOUT_MS,
      );
    });
    try {
      this.port = await Promise.race([listening, timeout]);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the server at once, as a crash or a recycled instance would: its memory is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** Reads a session straight from the API, bypassing every page. */
  async readSession(key: string): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.url}/sessions/${key}`);
    return { status: response.status, body: await response.json() };
  }
}

/**
 * Waits until the JavaScript `expression`, evaluated in every page, gives the JSON of `expected`.
 * An expression string rather than a function: tsx may wrap functions in helpers that do not
 * exist inside the page.
 */
export async function waitForAgreement(
  pages: Page[],
  expression: string,
  expected: unknown,
  timeoutMs = 20_000,
): Promise<void> {
  const probe = `JSON.stringify(${expression}) === ${JSON.stringify(JSON.stringify(expected))}`;
  try {
    await Promise.all(
      pages.map((page) =>
        page.waitForFunction(probe, undefined, { timeout: timeoutMs, polling: 100 }),
      ),
    );
  } catch (error) {
    // Say what each page showed instead, which is what one needs to see when this fails.
    const seen = await Promise.all(
      pages.map((page) => page.evaluate(`JSON.stringify(${expression})`).catch(String)),
    );
    throw new Error(
      `pages did not agree on ${expression} = ${JSON.stringify(expected)}; they showed:\n` +
        seen.map((value, index) => `  page ${index + 1}: ${value}`).join('\n'),
      { cause: error },
    );
  }
}
