// What `npm start` / `npm run dev` run, as pure functions of their inputs, so the command line and
// the sandbox check are tested without Electron (test/unit/scripts/launch.test.ts).
import { dirname, join } from 'node:path';

/**
 * A tool's JavaScript entry (its package.json `bin`), run with Node itself: no shell, no
 * `.cmd` shim, so a space in Node's path or the project's path is just part of an argument.
 * @param {{ dir: string, bin: string | Record<string, string> }} pkg
 * @param {string} name
 */
export function binEntry(pkg, name) {
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin[name];
  if (!bin) throw new Error(`${name} has no "bin" entry in ${join(pkg.dir, 'package.json')}`);
  return join(pkg.dir, bin);
}

/**
 * The electron-vite command for `mode` (`dev` or `preview`). electron-vite hands Electron only
 * what follows `--`, so the app's own flags (`--port 7001`, `--db …`) and Chromium's
 * (`--no-sandbox`) go there.
 * `viteFlags` are electron-vite's own (`--skipBuild`), before the `--`.
 * @param {{ execPath: string, cli: string, mode: string, appArgs: readonly string[], viteFlags?: readonly string[], root: string, electronExecutable: string | null }} input
 */
export function electronViteCommand(input) {
  if (input.mode !== 'dev' && input.mode !== 'preview') throw new Error(`unknown mode "${input.mode}" (dev or preview)`);
  const args = [input.cli, input.mode, ...(input.viteFlags ?? []), ...(input.appArgs.length > 0 ? ['--', ...input.appArgs] : [])];
  return {
    command: input.execPath,
    args,
    options: {
      cwd: input.root,
      stdio: 'inherit',
      shell: false,
      // electron-vite finds Electron through path.txt unless told; ELECTRON_OVERRIDE_DIST_PATH
      // (a folder) has none.
      env: input.electronExecutable ? { ELECTRON_EXEC_PATH: input.electronExecutable } : {},
    },
  };
}

/**
 * Splits `npm start -- …`'s arguments: a leading `--` (from `node scripts/app.mjs preview -- …`)
 * is dropped; everything is forwarded to the app.
 * @param {readonly string[]} argv
 */
export function appArguments(argv) {
  return argv[0] === '--' ? argv.slice(1) : [...argv];
}

/**
 * Whether Chromium's sandbox can start here (Linux only), from facts gathered by the caller.
 *
 * Chromium sandboxes renderers with unprivileged user namespaces, else with the setuid
 * `chrome-sandbox` helper. Ubuntu 23.10+ restricts unprivileged user namespaces with AppArmor
 * (`kernel.apparmor_restrict_unprivileged_userns = 1`), and npm's copy of the helper is not
 * root-owned 4755, so Electron aborts at start ("The SUID sandbox helper binary was found, but is
 * not configured correctly"; electron/electron#42510).
 * @param {{
 *   platform: string,
 *   noSandbox: boolean,
 *   restrictUserns: string | null,
 *   usernsClone: string | null,
 *   helper: { path: string, uid: number, mode: number } | null,
 *   electronExecutable: string,
 *   userProfile: boolean,
 *   uid?: number,
 * }} facts `userProfile`: an AppArmor profile grants this executable `userns`; `uid`: the user's.
 * @returns {{ ok: true } | { ok: false, message: string }}
 */
export function sandboxCheck(facts) {
  if (facts.platform !== 'linux' || facts.noSandbox) return { ok: true };
  if (facts.uid === 0) {
    return {
      ok: false,
      message: `Electron does not start as root with its sandbox ("Running as root without --no-sandbox is not
supported"). Start it as your own user, or, in a container where root is all there is:

    npm start -- --no-sandbox
`,
    };
  }
  const helper = facts.helper;
  const helperReady = helper !== null && helper.uid === 0 && (helper.mode & 0o4000) !== 0 && (helper.mode & 0o777) === 0o755;
  if (helperReady) return { ok: true };
  const usernsBlocked = facts.restrictUserns?.trim() === '1' || facts.usernsClone?.trim() === '0';
  if (!usernsBlocked || (facts.restrictUserns?.trim() === '1' && facts.userProfile && facts.usernsClone?.trim() !== '0')) return { ok: true };
  const helperPath = helper?.path ?? join(dirname(facts.electronExecutable), 'chrome-sandbox');
  const why =
    facts.restrictUserns?.trim() === '1'
      ? 'AppArmor restricts unprivileged user namespaces here (kernel.apparmor_restrict_unprivileged_userns = 1, Ubuntu 23.10+)'
      : 'unprivileged user namespaces are disabled here (kernel.unprivileged_userns_clone = 0)';
  const state = helper === null ? 'is missing' : `is owned by uid ${helper.uid} with mode ${(helper.mode & 0o7777).toString(8)}, not root and 4755`;
  return {
    ok: false,
    message: `Electron's sandbox cannot start: ${why}, and its setuid helper
${helperPath} ${state}. Electron would abort with "The SUID sandbox helper binary was found,
but is not configured correctly" (electron/electron#42510). Fix it once, with either:

    sudo chown root:root '${helperPath}' && sudo chmod 4755 '${helperPath}'

or an AppArmor profile that lets this Electron use user namespaces:

    printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile electron-dev "%s" flags=(unconfined) {\\n  userns,\\n}\\n' '${facts.electronExecutable}' | sudo tee /etc/apparmor.d/electron-dev
    sudo apparmor_parser -r /etc/apparmor.d/electron-dev

Or run without Chromium's sandbox, knowingly (the window then has less protection):

    npm start -- --no-sandbox
`,
  };
}
