/** Continuous flow under load (a short run; `deno task test:long` runs two minutes). */
import { flowUnderLoad } from "./flow_under_load.ts";

Deno.test({
  name: "continuous flow: snapshots every second under writes restore to the recorded images",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => flowUnderLoad(10_000),
});
