import packageJson from '../../package.json' with { type: 'json' };

/** The app's version, as `package.json` states it (one place to bump). */
export const VERSION: string = packageJson.version;
