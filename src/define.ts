/**
 * Registers `<session-sync>`. Import this module (or load the one-file bundle) once per page;
 * to use another tag name, import `SessionSync` from the package and register it yourself.
 */
import { SessionSync } from './element/session-sync.js';

declare global {
  interface HTMLElementTagNameMap {
    'session-sync': SessionSync;
  }
}

if (!customElements.get('session-sync')) customElements.define('session-sync', SessionSync);

export * from './index.js';
