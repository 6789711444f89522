// Types of scripts/launch.mjs for the TypeScript tests that import it.
export interface PackageBin {
  dir: string;
  bin: string | Record<string, string>;
}
export function binEntry(pkg: PackageBin, name: string): string;

export interface LaunchCommand {
  command: string;
  args: string[];
  options: { cwd: string; stdio: 'inherit'; shell: false; env: Record<string, string> };
}
export function electronViteCommand(input: {
  execPath: string;
  cli: string;
  mode: string;
  appArgs: readonly string[];
  /** electron-vite's own flags (`--skipBuild`), placed before `--`. */
  viteFlags?: readonly string[];
  root: string;
  electronExecutable: string | null;
}): LaunchCommand;

export function appArguments(argv: readonly string[]): string[];

export interface SandboxFacts {
  platform: string;
  noSandbox: boolean;
  restrictUserns: string | null;
  usernsClone: string | null;
  helper: { path: string; uid: number; mode: number } | null;
  electronExecutable: string;
  /** An AppArmor profile in /etc/apparmor.d names this executable and grants `userns`. */
  userProfile: boolean;
  /** The user's id (root cannot run Chromium's sandbox). */
  uid?: number;
}
export function sandboxCheck(facts: SandboxFacts): { ok: true } | { ok: false; message: string };
