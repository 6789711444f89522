import type { JSX } from 'solid-js';

/** Stroke icons (24×24, currentColor), drawn as DOM nodes so the CSP needs no exceptions. */
function Icon(props: { children: JSX.Element; size?: number }) {
  return (
    <svg
      class="icon"
      width={props.size ?? 16}
      height={props.size ?? 16}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="1.8"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
    >
      {props.children}
    </svg>
  );
}

export const DashboardIcon = () => (
  <Icon>
    <rect x="3" y="3" width="7" height="9" rx="1.5" />
    <rect x="14" y="3" width="7" height="5" rx="1.5" />
    <rect x="14" y="12" width="7" height="9" rx="1.5" />
    <rect x="3" y="16" width="7" height="5" rx="1.5" />
  </Icon>
);
export const PlaygroundIcon = () => (
  <Icon>
    <path d="M4 17l6-6-6-6" />
    <path d="M12 19h8" />
  </Icon>
);
export const EventsIcon = () => (
  <Icon>
    <path d="M8 6h13M8 12h13M8 18h13" />
    <circle cx="3.5" cy="6" r="1" />
    <circle cx="3.5" cy="12" r="1" />
    <circle cx="3.5" cy="18" r="1" />
  </Icon>
);
export const SettingsIcon = () => (
  <Icon>
    <circle cx="12" cy="12" r="3" />
    <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
  </Icon>
);
export const ExportIcon = () => (
  <Icon>
    <path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4" />
    <path d="M7 10l5 5 5-5" />
    <path d="M12 15V3" />
  </Icon>
);
export const LogoMark = () => (
  <svg class="logo-mark" width="26" height="26" viewBox="0 0 32 32" aria-hidden="true">
    <rect x="2" y="2" width="28" height="28" rx="8" fill="#141b26" stroke="#2a3546" />
    <rect x="8" y="9" width="4" height="4" rx="1" fill="#7c9cff" />
    <rect x="14" y="9" width="4" height="4" rx="1" fill="#7c9cff" opacity="0.35" />
    <rect x="20" y="9" width="4" height="4" rx="1" fill="#2dd4bf" />
    <rect x="8" y="15" width="4" height="4" rx="1" fill="#2dd4bf" opacity="0.35" />
    <rect x="14" y="15" width="4" height="4" rx="1" fill="#b794f6" />
    <rect x="20" y="15" width="4" height="4" rx="1" fill="#7c9cff" opacity="0.35" />
    <rect x="8" y="21" width="4" height="4" rx="1" fill="#b794f6" />
    <rect x="14" y="21" width="4" height="4" rx="1" fill="#7c9cff" />
    <rect x="20" y="21" width="4" height="4" rx="1" fill="#2dd4bf" opacity="0.35" />
  </svg>
);
