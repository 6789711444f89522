import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { AppCommand, ViewName } from '../../shared/api';
import type { ExportKind } from '../../shared/apiSchemas';

export interface MenuActions {
  command(command: AppCommand): void;
  openDataFolder(): void;
  openInBrowser(path: string): void;
  isMac: boolean;
  devTools: boolean;
}

const VIEW_ITEMS: Array<{ view: ViewName; label: string; key: string }> = [
  { view: 'dashboard', label: 'Dashboard', key: '1' },
  { view: 'playground', label: 'Playground', key: '2' },
  { view: 'events', label: 'Events', key: '3' },
  { view: 'settings', label: 'Settings', key: '4' },
  { view: 'export', label: 'Export', key: '5' },
];

const EXPORT_ITEMS: Array<{ format: ExportKind; label: string }> = [
  { format: 'json', label: 'Export JSON Summary…' },
  { format: 'prometheus', label: 'Export Prometheus Metrics…' },
  { format: 'influxdb', label: 'Export InfluxDB Line Protocol…' },
  { format: 'csv', label: 'Export Events as CSV…' },
];

/** The application menu: views, exports, the data folder, and the same dashboard in a browser. */
export function buildAppMenu(actions: MenuActions): Menu {
  const template: MenuItemConstructorOptions[] = [
    ...(actions.isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        ...EXPORT_ITEMS.map(({ format, label }) => ({ label, click: () => actions.command({ type: 'export', format }) })),
        { type: 'separator' },
        { label: 'Open Data Folder', click: () => actions.openDataFolder() },
        { label: 'Open Dashboard in Browser', click: () => actions.openInBrowser('/') },
        { type: 'separator' },
        actions.isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        ...VIEW_ITEMS.map(({ view, label, key }) => ({
          label,
          accelerator: `CmdOrCtrl+${key}`,
          click: () => actions.command({ type: 'navigate', view }),
        })),
        { type: 'separator' },
        { role: 'reload' },
        ...(actions.devTools ? [{ role: 'toggleDevTools' as const }] : []),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'Prometheus Metrics Endpoint', click: () => actions.openInBrowser('/metrics') },
        { label: 'Health Report', click: () => actions.openInBrowser('/api/diffusion/health') },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
