import { assertEquals } from "../../testing/assert.ts";
import { afterTransfer, chooseTransferRange, snapshotGid, takeSnapshot } from "./gid_allocation.ts";
import { formatMetaDiff } from "./meta_diff.ts";
import { metaLsidGid } from "./meta_lsid_gid.ts";

const MAX = 100n;

Deno.test("snapshotGid() leaves room for big lsid ranges", () => {
  const pre = metaLsidGid(1000n, 7n);
  assertEquals(snapshotGid(pre, 1000n, MAX), 8n);
  assertEquals(snapshotGid(pre, 1099n, MAX), 8n);
  assertEquals(snapshotGid(pre, 1100n, MAX), 9n);
  assertEquals(snapshotGid(pre, 1350n, MAX), 11n);
});

Deno.test("takeSnapshot() pushes to the queue front from the newest record", () => {
  const done = metaLsidGid(0n, 0n, { timestamp: 1 });
  let queue = takeSnapshot(done, [], {
    lsid: 10n,
    isMergeable: true,
    timestamp: 2,
    maxWlogSendPb: MAX,
  });
  queue = takeSnapshot(done, queue, {
    lsid: 250n,
    isMergeable: false,
    timestamp: 3,
    maxWlogSendPb: MAX,
  });
  assertEquals(queue.map((r) => [r.lsid, r.gid, r.isMergeable]), [[250n, 4n, false], [
    10n,
    1n,
    true,
  ]]);
});

Deno.test("chooseTransferRange() and afterTransfer() split a big range and extend over implicit ones", () => {
  const done = metaLsidGid(0n, 0n, { timestamp: 1 });
  let queue = takeSnapshot(done, [], {
    lsid: 10n,
    isMergeable: true,
    timestamp: 2,
    maxWlogSendPb: MAX,
  });
  queue = takeSnapshot(done, queue, {
    lsid: 50n,
    isMergeable: true,
    timestamp: 3,
    maxWlogSendPb: MAX,
  });
  queue = takeSnapshot(done, queue, {
    lsid: 250n,
    isMergeable: false,
    timestamp: 4,
    maxWlogSendPb: MAX,
  });
  // gids: 1 (lsid 10, M), 2 (lsid 50, M), 5 (lsid 250, explicit: 2 + 1 + 200 / 100)
  const opts = { maxWlogSendPb: MAX, permanentLsid: 1000n };
  let range = chooseTransferRange(done, queue, opts)!;
  assertEquals([range.recE.gid, range.lsidE, range.isComplete], [2n, 50n, true]);
  assertEquals(formatMetaDiff(range.diff), "|0|-->|2|");
  assertEquals(range.diff.timestamp, 3);
  let state = afterTransfer(queue, range);
  assertEquals([state.done.lsid, state.done.gid, state.done.isMergeable], [50n, 2n, true]);
  assertEquals(state.queue.length, 1);
  // From gid 2 (lsid 50) to gid 5 (lsid 250): split at lsid 150 as |2|-->|3|.
  range = chooseTransferRange(state.done, state.queue, opts)!;
  assertEquals([range.lsidE, range.isComplete, formatMetaDiff(range.diff)], [
    150n,
    false,
    "|2|-->|3|",
  ]);
  state = afterTransfer(state.queue, range);
  assertEquals([state.done.lsid, state.done.gid, state.done.isMergeable, state.done.timestamp], [
    150n,
    3n,
    true,
    3,
  ]);
  range = chooseTransferRange(state.done, state.queue, opts)!;
  assertEquals([range.lsidE, range.isComplete, formatMetaDiff(range.diff)], [
    250n,
    true,
    "|3|-->|5|",
  ]);
  assertEquals(range.diff.isMergeable, true);
  state = afterTransfer(state.queue, range);
  assertEquals([state.done.gid, state.done.isMergeable, state.done.timestamp, state.queue.length], [
    5n,
    false,
    4,
    0,
  ]);
  assertEquals(chooseTransferRange(state.done, state.queue, opts), null);
});

Deno.test("chooseTransferRange() does not extend past the permanent lsid", () => {
  const done = metaLsidGid(0n, 0n);
  let queue = takeSnapshot(done, [], {
    lsid: 10n,
    isMergeable: true,
    timestamp: 2,
    maxWlogSendPb: MAX,
  });
  queue = takeSnapshot(done, queue, {
    lsid: 50n,
    isMergeable: true,
    timestamp: 3,
    maxWlogSendPb: MAX,
  });
  const range = chooseTransferRange(done, queue, { maxWlogSendPb: MAX, permanentLsid: 40n })!;
  assertEquals([range.recE.gid, range.lsidE], [1n, 10n]);
});
