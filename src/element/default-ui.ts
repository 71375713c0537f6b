/**
 * The default UI of `<session-sync>`: start, join by key or link, copy the edit or view-only
 * link, leave, connection status and who is here.
 *
 * It is built once with DOM calls and then only updated, rather than through a template
 * library: that keeps the one-file bundle small. Everything shown that comes from outside
 * (peer names, links) is set as text, never parsed as HTML.
 */
import type { SyncStatus } from '../client/sync-client.js';

const STATUS_TEXT: Record<SyncStatus, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  error: 'Not synced',
};

/** What the UI shows. */
export interface UiView {
  status: SyncStatus;
  joined: boolean;
  canWrite: boolean;
  /** Names of the people here. */
  peers: string[];
  /** Feedback after copying a link. */
  notice: string;
}

/** What the UI's controls do. */
export interface UiActions {
  start(): void;
  /** `value` is what was typed or pasted: a key, or a whole link. */
  join(value: string): void;
  copy(link: 'edit' | 'view'): void;
  leave(): void;
}

/** Creates an element; string children become text nodes. */
function h(tag: string, attributes: Record<string, string> = {}, ...children: (Node | string)[]) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

function button(part: string, label: Node | string, onclick?: () => void, type = 'button') {
  const element = h('button', { part: `button ${part}`, type }, label);
  if (onclick) element.onclick = onclick;
  return element;
}

export class DefaultUi {
  private _status: HTMLElement;
  private _idle: HTMLElement;
  private _joined: HTMLElement;
  private _copyEdit: HTMLElement;
  private _peers: HTMLElement;
  private _notice: HTMLElement;

  /** Builds the UI into `root` (the element's shadow root). */
  constructor(root: ParentNode, actions: UiActions) {
    const key = h('input', { part: 'input', name: 'key', required: '', autocomplete: 'off' });
    const form = h(
      'form',
      { part: 'join' },
      h('label', {}, 'Session key ', key),
      button('join', h('slot', { name: 'join-label' }, 'Join'), undefined, 'submit'),
    );
    form.onsubmit = (event) => {
      event.preventDefault();
      actions.join((key as HTMLInputElement).value.trim());
    };
    this._idle = h(
      'span',
      { class: 'group' },
      button('start', h('slot', { name: 'start-label' }, 'Start a session'), actions.start),
      form,
    );
    this._joined = h(
      'span',
      { class: 'group' },
      (this._copyEdit = button('copy-edit', 'Copy edit link', () => actions.copy('edit'))),
      button('copy-view', 'Copy view link', () => actions.copy('view')),
      button('leave', 'Leave', actions.leave),
      (this._peers = h('ul', { part: 'peers', 'aria-label': 'Who is here' })),
    );
    root.append(
      h(
        'div',
        { part: 'base' },
        (this._status = h('span', { part: 'status', role: 'status' })),
        this._idle,
        this._joined,
        (this._notice = h('span', { part: 'notice', role: 'status' })),
        h('slot'),
      ),
    );
  }

  /** Shows `view`; only what differs is touched, so focus and typing are never disturbed. */
  show({ status, joined, canWrite, peers, notice }: UiView): void {
    this._status.dataset.status = status;
    this._status.textContent = STATUS_TEXT[status] + (joined && !canWrite ? ' (view only)' : '');
    this._idle.hidden = joined;
    this._joined.hidden = !joined;
    this._copyEdit.hidden = !canWrite;
    if (peers.join('\n') != [...this._peers.children].map((li) => li.textContent).join('\n')) {
      this._peers.replaceChildren(...peers.map((name) => h('li', { part: 'peer' }, name)));
    }
    this._notice.textContent = notice;
  }
}
