// Types of scripts/electronBinary.mjs for the TypeScript tests that import it.
export function electronPackage(): { dir: string; version: string };
export function executableInDist(platform?: string): string;
export function electronExecutable(env?: Record<string, string | undefined>, platform?: string): string | null;
