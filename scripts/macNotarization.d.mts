// Types of scripts/macNotarization.mjs for the TypeScript tests that import it.
export function notarizationPlan(env: Record<string, string | undefined>): { notarize: boolean; ok: boolean; message: string };
export function afterPack(context: { electronPlatformName: string }): Promise<void>;
