// The least a page does to share state with Yjs: a document, a provider, a map to read and write.
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';

const doc = new Y.Doc();
const provider = new WebsocketProvider('wss://sync.example.invalid', 'room', doc);
const state = doc.getMap('state');
state.observe(() => (document.body.dataset.state = JSON.stringify(state.toJSON())));
document.addEventListener('click', () => state.set('move', Date.now()));
window.provider = provider;
