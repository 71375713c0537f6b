// Small helpers shared by the browser tests.
import { fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import '../../../src/define.js';
import type { SessionSync } from '../../../src/index.js';
import { endpoint } from '/__sync-server.js';

export { endpoint };

/**
 * The element's `error` events bubble to the window, where mocha (like any `window.onerror`
 * reporter) would take them for uncaught exceptions. Tests stop them at the document and keep
 * them here, so a test can look at them.
 */
export const errorsSeen: CustomEvent[] = [];
document.addEventListener('error', (event) => {
  if (event instanceof CustomEvent) {
    errorsSeen.push(event);
    event.stopPropagation();
  }
});

/** A headless `<session-sync>` against the normal test server, with extra attributes. */
export async function syncElement(attributes: Record<string, string> = {}): Promise<SessionSync> {
  const element = await fixture<SessionSync>(
    html`<session-sync endpoint=${endpoint} headless></session-sync>`,
  );
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  await element.updateComplete;
  return element;
}

/** Waits until `condition` holds, failing with `message` after a generous time. */
export function until(condition: () => unknown, message: string, timeout = 15_000): Promise<void> {
  return waitUntil(condition, message, { timeout, interval: 20 });
}

/** Resolves with the next event of that type, after `action` ran. */
export async function eventAfter<T extends Event>(
  target: EventTarget,
  type: string,
  action: () => unknown,
): Promise<T> {
  const event = oneEvent(target, type) as unknown as Promise<T>;
  await action();
  return event;
}

export const serverCommand = <T>(command: string, payload?: object) =>
  executeServerCommand<T, object>(command, payload);
