import { assert, assertEquals } from "../../testing/assert.ts";
import { closeRecords, describeFailure, traceClose } from "./close_trace.ts";

Deno.test("traceClose() records the closing call and still closes", async () => {
  const path = await Deno.makeTempFile({ prefix: "walb-close-trace-" });
  try {
    const file = traceClose(await Deno.open(path, { write: true }), "test file");
    file.close();
    const record = closeRecords().at(-1)!;
    assertEquals(record.label, "test file");
    assert(record.stack.includes("close_trace_test.ts"), record.stack);
    let bad = false;
    try {
      await file.write(new Uint8Array(1));
    } catch (error) {
      bad = error instanceof Deno.errors.BadResource;
    }
    assert(bad, "the handle is closed");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("describeFailure() gives the cause chain with stacks and the close records", () => {
  traceClose({ close() {} }, "ddev /x").close();
  const error = new Error("log the write", { cause: new Error("Bad resource ID") });
  const text = describeFailure(error);
  assert(text.includes("error: Error: log the write"), text);
  assert(text.includes("caused by: Error: Bad resource ID"), text);
  assert(text.includes("close of ddev /x at "), text);
  assert(text.includes("close_trace_test.ts"), "stacks are included");
});
