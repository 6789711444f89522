import '@fontsource-variable/inter';
import '@fontsource-variable/jetbrains-mono';
import './styles/app.css';
import { createEffect, createSignal, on } from 'solid-js';
import { render } from 'solid-js/web';
import { App } from './App';
import { connectApi } from './api/client';
import { AppProvider, useApp } from './state/appState';

// Transport events (browser only) are signals, which the app state follows once it exists.
const [liveConnected, setLiveConnected] = createSignal(false);
const [unauthorizedAnswers, setUnauthorizedAnswers] = createSignal(0);
const api = connectApi({ onLiveChange: setLiveConnected, onUnauthorized: () => setUnauthorizedAnswers((n) => n + 1) });

function TransportEvents() {
  const app = useApp();
  createEffect(on(liveConnected, (connected) => app.setLiveConnected(connected), { defer: true }));
  createEffect(on(unauthorizedAnswers, () => app.setNeedsToken(true), { defer: true }));
  return null;
}

const root = document.getElementById('root');
if (root) {
  render(
    () => (
      <AppProvider api={api}>
        <TransportEvents />
        <App />
      </AppProvider>
    ),
    root,
  );
}
