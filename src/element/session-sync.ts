/**
 * `<session-sync>`: the drop-in element. It maps attributes, properties, events and a small
 * default UI onto a `SyncClient`, which does all the networking. This module does not
 * register the element; `define.js` does, so it can be registered under another name too.
 */
import { ReactiveElement, type PropertyValues } from '@lit/reactive-element';
import type { TransportMode } from '../client/options.js';
import {
  SyncClient,
  type SyncClientEventMap,
  type SyncReadyDetail,
  type SyncStatus,
} from '../client/sync-client.js';
import type { Json, Peer } from '../protocol.js';
import { DefaultUi } from './default-ui.js';
import { dispatchSyncEvent, type SessionSyncEventMap } from './events.js';
import { FormBinding } from './form-binding.js';
import { linkTo, readFragment, writeFragment } from './fragment-link.js';
import { styles } from './styles.js';

const TRANSPORTS = ['auto', 'sse', 'long-poll', 'poll'];
const DEFAULT_POLL_INTERVAL_MS = 5000;
const noop = () => {};
const warned = new Set<string>();

/** Says once per kind of mistake that a bad attribute value was replaced by its default. */
function warnOnce(message: string): void {
  if (!warned.has(message)) console.warn(`<session-sync>: ${message}`);
  warned.add(message);
}

export interface SessionSync {
  addEventListener<K extends keyof SessionSyncEventMap>(
    type: K,
    listener: (this: SessionSync, event: SessionSyncEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
}

/**
 * Keeps one JSON state in step between every page that holds the same session.
 *
 * @example
 * <session-sync endpoint="https://sync.example.com" link></session-sync>
 *
 * @event session-sync-ready - Joined or started a session. `detail`: `{key, version, state, canWrite, recovered}`.
 * @event session-sync-change - The state changed. `detail`: `{state, version, patch, origin: "local" | "remote"}`.
 * @event session-sync-status - The connection status changed. `detail`: `{status}`.
 * @event session-sync-presence - Who is here changed. `detail`: `{peers}`.
 * @event error - Something failed. `detail`: a `SyncError` with a `code` such as `forbidden`, `session-not-found`, `too-large`.
 *
 * @slot - Extra content after the built-in controls, such as your own buttons.
 * @slot start-label - Label of the start button.
 * @slot join-label - Label of the join button.
 *
 * @csspart base - The row holding everything.
 * @csspart status - The connection status text (carries `data-status`).
 * @csspart button - Every built-in button; each also has its own part: `start`, `join`, `copy-edit`, `copy-view`, `leave`.
 * @csspart join - The join form.
 * @csspart input - The session key field.
 * @csspart peers - The list of people here; each is a `peer`.
 * @csspart notice - Feedback after copying a link.
 *
 * @cssproperty --session-sync-font - Font of the UI. Default: inherited.
 * @cssproperty --session-sync-gap - Space between the controls. Default: 0.5em.
 * @cssproperty --session-sync-radius - Corner radius of buttons and fields. Default: 0.3em.
 * @cssproperty --session-sync-background - Background of buttons and fields. Default: transparent.
 * @cssproperty --session-sync-accent - Focus ring colour. Default: #2563eb.
 * @cssproperty --session-sync-live-color - Status dot when live. Default: #16a34a.
 * @cssproperty --session-sync-idle-color - Status dot when idle or reconnecting. Default: #9ca3af.
 * @cssproperty --session-sync-error-color - Status dot when offline or failed. Default: #dc2626.
 * @cssproperty --session-sync-peer-background - Background of each peer. Default: a faint shade.
 */
export class SessionSync extends ReactiveElement {
  static override styles = styles;
  static override properties = {
    endpoint: { reflect: true },
    session: { reflect: true },
    token: { reflect: true },
    transport: { reflect: true },
    pollInterval: { attribute: 'poll-interval', type: Number, reflect: true },
    name: { reflect: true },
    link: { type: Boolean, reflect: true },
    headless: { type: Boolean, reflect: true },
    bind: { reflect: true },
  };

  /** Base URL of the sync server; relative URLs resolve against the page. */
  declare endpoint?: string;
  /** The session key. Setting it joins that session; after `start()` it holds the new key. */
  declare session?: string;
  /** The write token. Absent means view-only. */
  declare token?: string;
  /** `auto` (default), `sse`, `long-poll` or `poll`. */
  declare transport: TransportMode;
  /** Milliseconds between polls with `transport="poll"`. Default 5000. */
  declare pollInterval: number;
  /** The name peers see. */
  declare name?: string;
  /** Read the session and token from the page URL's fragment, and write them there. */
  declare link: boolean;
  /** Render nothing; the page builds its own UI on the properties and events. */
  declare headless: boolean;
  /** A selector of a form whose named controls are kept in the shared state. */
  declare bind?: string;

  private _client?: SyncClient;
  private _binding?: FormBinding;
  private _ui?: DefaultUi;
  /** Feedback after copying a link. */
  private _notice = '';
  /** The key and token the client was last asked to hold, so attribute echoes do not rejoin. */
  private _target = '';

  constructor() {
    super();
    this.transport = 'auto';
    this.pollInterval = DEFAULT_POLL_INTERVAL_MS;
    this.link = this.headless = false;
  }

  /** The shared state (read-only: change it with `update()` or `replace()`). */
  get state(): Json {
    return this._client?.state ?? null;
  }
  get version(): number {
    return this._client?.version ?? 0;
  }
  /** `idle`, `connecting`, `live`, `reconnecting`, `offline` or `error`. */
  get status(): SyncStatus {
    return this._client?.status ?? 'idle';
  }
  /** Everyone who announced presence in this session, this page included. */
  get peers(): Peer[] {
    return this._client?.peers ?? [];
  }
  /** True when this page holds the session with its write token. */
  get canWrite(): boolean {
    return !!this._client?.canWrite;
  }
  /** A link that joins the session with write access (this page's URL, session in the fragment). */
  get shareLink(): string {
    return linkTo(this._client?.key, this._client?.token);
  }
  /** A link that joins the session view-only. */
  get viewLink(): string {
    return linkTo(this._client?.key);
  }

  /**
   * Creates a session and joins it with write access. With `bind`, the form's values are the
   * initial state unless one is given.
   * @throws TypeError at once when `endpoint` is not set
   */
  start(initialState?: Json): Promise<SyncReadyDetail> {
    return this._need().start(initialState ?? this._binding?.values() ?? {});
  }

  /** Joins a session by key; without a token as a viewer. */
  join(key: string, token?: string): Promise<SyncReadyDetail> {
    this._target = `${key} ${token ?? ''}`;
    this.session = key;
    this.token = token;
    return this._need().join(key, token);
  }

  /** Leaves the session; this page stops following it. */
  leave(): Promise<void> {
    this._target = '';
    this.session = this.token = undefined;
    if (this.link) writeFragment();
    return this._client?.leave() ?? Promise.resolve();
  }

  /**
   * Applies an RFC 7396 merge patch to the shared state: shown at once, then sent.
   * (Lit's own update cycle also calls `update`, always with a `Map`; that call is passed on.)
   *
   * @returns the version at which the server accepted the write; rejects with a `SyncError`
   *   (also dispatched as `error`) when the write is refused
   * @example el.update({ cells: { 4: 'x' }, turn: 'o' })
   */
  override update(patch: Json | PropertyValues): any {
    if (patch instanceof Map) return super.update(patch);
    return this._need().update(patch as Json);
  }

  /** Replaces the whole shared state. */
  replace(state: Json): Promise<number> {
    return this._need().replace(state);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.link && !this.session) Object.assign(this, readFragment());
    addEventListener('hashchange', this._onHashChange);
    this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    removeEventListener('hashchange', this._onHashChange);
    // Moving the element reconnects it in the same task: only a real removal leaves. The
    // attributes stay, so putting the element back joins again.
    setTimeout(() => {
      if (this.isConnected || !this._client) return;
      this._client.leave();
      this._target = '';
    });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!TRANSPORTS.includes(this.transport)) {
      warnOnce(`transport "${this.transport}" is not one of ${TRANSPORTS.join(', ')}; using auto`);
      this.transport = 'auto';
    }
    if (!(this.pollInterval > 0)) {
      warnOnce(`poll-interval must be a positive number of ms; using ${DEFAULT_POLL_INTERVAL_MS}`);
      this.pollInterval = DEFAULT_POLL_INTERVAL_MS;
    }
    // (An endpoint set before the first update is the one the client was made with.)
    if (changed.has('endpoint') && changed.get('endpoint') && this._client) {
      // Another server: the client of the old one leaves; the session is joined again below.
      this._client.leave();
      this._client = undefined;
      this._target = '';
    }
    const client = this._client;
    if (client && (changed.has('transport') || changed.has('pollInterval'))) {
      client.options.transport = this.transport;
      client.options.pollIntervalMs = this.pollInterval;
      client.reconnect();
    }
    if (client && changed.has('name')) client.name = this.name;
    if (changed.has('bind')) this._bind();
  }

  protected override updated(changed: PropertyValues<this>): void {
    const target = this.session ? `${this.session} ${this.token ?? ''}` : '';
    if (this.endpoint && target != this._target && this.isConnected) {
      if (target) this.join(this.session!, this.token).catch(noop);
      else this.leave();
    }
    if (changed.has('link') && this.link) writeFragment(this.session, this.token);
    this._render();
  }

  /** Builds the default UI on first need, and shows the current state in it. */
  private _render(): void {
    if (this.headless) {
      this.renderRoot.replaceChildren();
      this._ui = undefined;
      return;
    }
    this._ui ??= new DefaultUi(this.renderRoot, {
      start: () => this.start().catch(noop),
      join: (value) => this._joinFrom(value),
      copy: (link) => this._copy(link == 'edit' ? this.shareLink : this.viewLink),
      leave: () => this.leave(),
    });
    const client = this._client;
    this._ui.show({
      status: this.status,
      joined: !!client?.key,
      canWrite: this.canWrite,
      peers: this.peers.map(({ clientId, data }) => {
        const name = (data as { name?: unknown } | null)?.name;
        const you = clientId == client?.clientId ? ' (you)' : '';
        return (typeof name == 'string' && name ? name : 'Anonymous') + you;
      }),
      notice: this._notice,
    });
  }

  /** The client, created on first use from the current attributes. */
  private _need(): SyncClient {
    if (this._client) return this._client;
    if (!this.endpoint) {
      throw new TypeError('<session-sync>: set the endpoint attribute (the sync server URL) first');
    }
    const client = new SyncClient({
      endpoint: this.endpoint,
      transport: this.transport,
      pollIntervalMs: this.pollInterval,
      name: this.name,
    });
    const forward = <K extends keyof SyncClientEventMap>(
      type: K,
      after?: (d: SyncClientEventMap[K]) => void,
    ) =>
      client.on(type, (detail) => {
        if (client != this._client) return;
        after?.(detail);
        this.requestUpdate();
        dispatchSyncEvent(this, type == 'error' ? type : `session-sync-${type}`, detail);
      });
    forward('ready', ({ key }) => {
      this._target = `${key} ${client.token ?? ''}`;
      this.session = key;
      this.token = client.token;
      if (this.link) writeFragment(key, client.token);
      this._showInForm();
    });
    forward('change', () => this._showInForm());
    forward('status');
    forward('presence');
    forward('error', () => {
      // The client drops a token the server refused; the attribute follows, without a rejoin.
      if (client.key && !client.token && this.token) {
        this._target = `${client.key} `;
        this.token = undefined;
      }
    });
    return (this._client = client);
  }

  private _bind(): void {
    this._binding?.disconnect();
    this._binding = undefined;
    if (!this.bind) return;
    const root = this.getRootNode() as Document | ShadowRoot;
    const form = root.querySelector?.(this.bind) ?? document.querySelector(this.bind);
    if (!(form instanceof HTMLFormElement)) {
      warnOnce(`bind="${this.bind}" matches no form`);
      return;
    }
    // Edits before any session are the form's own business: they become the initial state.
    this._binding = new FormBinding(form, (patch) => {
      if (this._client?.key) this.update(patch).catch(noop);
    });
    this._showInForm();
  }

  /** Shows the state in the bound form; a viewer's form is inert so it cannot be edited. */
  private _showInForm(): void {
    const binding = this._binding;
    if (!binding || !this._client?.key) return;
    binding.show(this.state);
    binding.form.inert = !this.canWrite;
  }

  /** Joins from what was typed in the UI: a key (view-only) or a whole link. */
  private _joinFrom(value: string): void {
    const { session, token } = value.includes('#')
      ? Object.fromEntries(new URLSearchParams(value.split('#')[1]))
      : { session: value, token: undefined };
    this.join(session ?? '', token).catch(noop);
  }

  private _onHashChange = () => {
    if (!this.link) return;
    const { session, token } = readFragment();
    if (session && session != this.session) this.join(session, token).catch(noop);
  };

  private async _copy(link: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(link);
      this._notice = 'Link copied';
    } catch {
      // No clipboard (permission refused, insecure page): show the link to copy by hand.
      this._notice = link;
    }
    this.requestUpdate();
  }
}
