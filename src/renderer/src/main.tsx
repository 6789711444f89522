import '@fontsource-variable/inter';
import '@fontsource-variable/jetbrains-mono';
import './styles/app.css';
import { render } from 'solid-js/web';
import { App } from './App';
import { connectApi } from './api/client';
import { AppProvider, useApp } from './state/appState';

// Transport events (browser only) reach the app state once it exists.
const hooks = { live: (_connected: boolean) => {}, unauthorized: () => {} };
const api = connectApi({ onLiveChange: (connected) => hooks.live(connected), onUnauthorized: () => hooks.unauthorized() });

function Hooks() {
  const app = useApp();
  hooks.live = (connected) => app.setLiveConnected(connected);
  hooks.unauthorized = () => app.setNeedsToken(true);
  return null;
}

const root = document.getElementById('root');
if (root) {
  render(
    () => (
      <AppProvider api={api}>
        <Hooks />
        <App />
      </AppProvider>
    ),
    root,
  );
}
