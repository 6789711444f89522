// electron-builder notarizes a signed macOS build by itself when Apple's credentials are in the
// environment (app-builder-lib MacTargetHelper.getNotarizeOptions). This hook (afterPack, so it
// runs even when nothing is signed) says plainly which way it will go, before the long part.

const SETS = [
  { name: 'Apple ID', vars: ['APPLE_ID', 'APPLE_APP_SPECIFIC_PASSWORD', 'APPLE_TEAM_ID'] },
  { name: 'App Store Connect API key', vars: ['APPLE_API_KEY', 'APPLE_API_KEY_ID', 'APPLE_API_ISSUER'] },
  { name: 'notarytool keychain profile', vars: ['APPLE_KEYCHAIN_PROFILE'] },
];

const HOW = SETS.map((set) => set.vars.join(' + ')).join(', or ');

/**
 * What notarization will do with these environment variables.
 * @param {Record<string, string | undefined>} env
 * @returns {{ notarize: boolean, ok: boolean, message: string }}
 */
export function notarizationPlan(env) {
  for (const set of SETS) {
    const present = set.vars.filter((name) => env[name]);
    if (present.length === 0) continue;
    const missing = set.vars.filter((name) => !env[name]);
    if (missing.length > 0) {
      return { notarize: false, ok: false, message: `macOS notarization: ${present.join(', ')} set but ${missing.join(', ')} missing (${set.name}).` };
    }
    return { notarize: true, ok: true, message: `macOS notarization: with the ${set.name} (${set.vars.join(', ')}), after signing.` };
  }
  return {
    notarize: false,
    ok: true,
    message: `macOS notarization skipped: no Apple credentials in the environment (set ${HOW}, and a Developer ID signing identity). An app that is not notarized opens only after right-click → Open, or xattr -dr com.apple.quarantine "/Applications/Diffusion Monitor.app".`,
  };
}

/** electron-builder's afterPack hook. */
export async function afterPack(context) {
  if (context.electronPlatformName !== 'darwin' && context.electronPlatformName !== 'mas') return;
  const plan = notarizationPlan(process.env);
  if (!plan.ok) throw new Error(plan.message);
  console.log(`  • ${plan.message}`);
}
