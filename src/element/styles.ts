/**
 * The default look of `<session-sync>`: plain, inheriting the page's font and colours, and
 * restyled from outside through `::part()` and the `--session-sync-*` custom properties.
 */
import { css } from '@lit/reactive-element';

export const styles = css`
  :host {
    display: block;
    font: var(--session-sync-font, inherit);
  }
  :host([headless]),
  [hidden] {
    display: none !important;
  }
  .group {
    display: contents;
  }
  [part~='base'],
  form,
  ul {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: var(--session-sync-gap, 0.5em);
    margin: 0;
    padding: 0;
  }
  button,
  input {
    font: inherit;
    color: inherit;
    padding: 0.25em 0.75em;
    border: 1px solid currentColor;
    border-radius: var(--session-sync-radius, 0.3em);
    background: var(--session-sync-background, transparent);
  }
  button {
    cursor: pointer;
  }
  :focus-visible {
    outline: 2px solid var(--session-sync-accent, #2563eb);
    outline-offset: 2px;
  }
  [part~='status']::before {
    content: '';
    display: inline-block;
    width: 0.6em;
    height: 0.6em;
    margin-right: 0.4em;
    border-radius: 50%;
    background: var(--session-sync-idle-color, #9ca3af);
  }
  [data-status='live']::before {
    background: var(--session-sync-live-color, #16a34a);
  }
  [data-status='error']::before,
  [data-status='offline']::before {
    background: var(--session-sync-error-color, #dc2626);
  }
  li {
    list-style: none;
    padding: 0 0.5em;
    border-radius: 1em;
    background: var(--session-sync-peer-background, #0001);
  }
`;
