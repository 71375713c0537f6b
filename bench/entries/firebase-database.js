// The least a page does to share state with Firebase: the app and the Realtime Database.
import { initializeApp } from 'firebase/app';
import { getDatabase, onValue, ref, set } from 'firebase/database';

const app = initializeApp({ databaseURL: 'https://project.example.invalid' });
const state = ref(getDatabase(app), 'sessions/room');
onValue(state, (snapshot) => (document.body.dataset.state = JSON.stringify(snapshot.val())));
document.addEventListener('click', () => set(state, { move: Date.now() }));
