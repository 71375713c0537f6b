// The least a page does to share state over Supabase Realtime: a channel, broadcast in and out.
import { RealtimeClient } from '@supabase/realtime-js';

const client = new RealtimeClient('wss://project.example.invalid/realtime/v1', {
  params: { apikey: 'public-anon-key' },
});
const channel = client.channel('room');
channel
  .on(
    'broadcast',
    { event: 'state' },
    ({ payload }) => (document.body.dataset.state = JSON.stringify(payload)),
  )
  .subscribe();
document.addEventListener('click', () =>
  channel.send({ type: 'broadcast', event: 'state', payload: { move: Date.now() } }),
);
