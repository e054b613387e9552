/** The crash trials of tests/acceptance/crash_group_test.ts, 100 of them (WALB_CRASH_TRIALS). */
import { crashTrials } from "../acceptance/crash_group.ts";

Deno.test({
  name: "crash (long): kill -9 during full backup and wlog flow, restart, the flow resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => crashTrials(Number(Deno.env.get("WALB_CRASH_TRIALS") ?? "100"), "crash group long"),
});
