/** Continuous flow under load for two minutes (WALB_LOAD_SEC overrides). */
import { flowUnderLoad } from "../acceptance/flow_under_load.ts";

Deno.test({
  name:
    "continuous flow (long): snapshots every second under writes restore to the recorded images",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => flowUnderLoad(Number(Deno.env.get("WALB_LOAD_SEC") ?? "120") * 1000),
});
