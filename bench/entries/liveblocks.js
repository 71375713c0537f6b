// The least a page does to share state with Liveblocks: a room and its storage root.
import { createClient, LiveObject } from '@liveblocks/client';

const client = createClient({ publicApiKey: 'pk_example' });
const { room } = client.enterRoom('room', {
  initialPresence: {},
  initialStorage: { state: new LiveObject({}) },
});
room.getStorage().then(({ root }) => {
  const state = root.get('state');
  room.subscribe(state, () => (document.body.dataset.state = JSON.stringify(state.toObject())));
  document.addEventListener('click', () => state.set('move', Date.now()));
});
