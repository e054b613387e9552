/**
 * kill -9 of servers at random points during a full backup and during the wlog flow, on a
 * real L-main group (a few trials; `deno task test:long` runs 100 or WALB_CRASH_TRIALS).
 */
import { crashTrials } from "./crash_group.ts";

Deno.test({
  name: "crash: kill -9 during full backup and wlog flow, restart, the flow resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => crashTrials(Number(Deno.env.get("WALB_CRASH_TRIALS") ?? "3"), "crash group"),
});
