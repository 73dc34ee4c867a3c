/**
 * `npm run soak -- --minutes 10 --seed 1 [--kill-every-min 5 --kill-every-max 40] [--rate 20]
 * [--settle-seconds 120] [--dir D] [--json]`: keel run killed and restarted under load, then
 * checked (scripts/soak/run.ts). Prints progress lines, a summary, and with --json one JSON object
 * on the last line. Exit 0 with no violations, 1 with any, 2 on bad flags (each named).
 * A soak dir given with --dir, or one that found violations, is kept for `keel replay` and the logs.
 */
import { parseSoakFlags, SoakFlagError, type SoakFlags } from './soak/flags.js';
import { removeSoakDir, runSoak } from './soak/run.js';

let flags: SoakFlags;
try {
  flags = parseSoakFlags(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}

try {
  const report = await runSoak(flags, (line) => console.log(line));
  const kept = flags.dir !== undefined || report.violations.length > 0;
  if (!kept) removeSoakDir(report.dataDir);
  console.log(
    `${report.kills} kills (${report.startupKills} in start-up), ${report.restarts} restarts (ready in ${report.meanRestartMs ?? '-'} ms mean, ${report.p95RestartMs ?? '-'} ms p95), ${report.intentsSubmitted} intents submitted, ${report.intentsAcknowledged} acknowledged, ${report.fills} fills: ${report.violations.length} violation(s)`,
  );
  console.log(
    `recovery after the kills: ${report.recovered.restored} intents restored, ${report.recovered.reconciled} reconciled by clientOrderId, ${report.recovered.abandoned} abandoned unsent, ${report.recovered.orphans} orphan orders`,
  );
  for (const violation of report.violations) console.log(`  ${violation.invariant}: ${violation.detail}`);
  if (kept) console.log(`soak data kept in ${report.dataDir}`);
  if (flags.json) console.log(JSON.stringify(report));
  process.exit(report.violations.length === 0 ? 0 : 1);
} catch (error) {
  if (error instanceof SoakFlagError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
