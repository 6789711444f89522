import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('diffusionMonitor', { version: '0.1.0' });
