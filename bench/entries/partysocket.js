// PartySocket is a reconnecting WebSocket to a PartyKit room; the state logic is the page's own.
import PartySocket from 'partysocket';

const socket = new PartySocket({ host: 'party.example.invalid', room: 'room' });
socket.addEventListener('message', (event) => (document.body.dataset.state = event.data));
document.addEventListener('click', () => socket.send(JSON.stringify({ move: Date.now() })));
