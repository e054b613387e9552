/**
 * The archive server the integration tests run in-process: id `a0`, listening on `a0:5000` of
 * a {@link MemoryNet}, file backend in `<baseDir>/_images`, discards zeroed.
 *
 * @module
 */
import { realClock } from "../../lib/clock.ts";
import { type ArchiveBackend, FileBackend } from "../../lib/archive-backend/mod.ts";
import type { NetAddr } from "../../lib/net.ts";
import { type ArchiveContext, createArchiveServer } from "../../lib/server/archive/mod.ts";
import { DenoServerFs, MemoryLogger } from "../../lib/server/runtime/mod.ts";
import type { MemoryNet } from "../../lib/testing/net.ts";

/** Where the test archive listens. */
export const ARCHIVE_ADDR: NetAddr = { hostname: "a0", port: 5000 };

/**
 * Creates the test archive (not yet running: call `context.runtime.run()`).
 *
 * @param net the network it listens on
 * @param baseDir its base directory
 * @param init its logger (default a fresh MemoryLogger) and backend (default a FileBackend over
 *   `<baseDir>/_images`)
 * @returns the archive's context
 */
export function createTestArchive(
  net: MemoryNet,
  baseDir: string,
  init: { logger?: MemoryLogger; backend?: ArchiveBackend } = {},
): Promise<ArchiveContext> {
  return createArchiveServer({
    serverId: "a0",
    clock: realClock,
    net,
    logger: init.logger ?? new MemoryLogger(),
    listen: ARCHIVE_ADDR,
    timeoutMs: 10_000,
    maxForegroundTasks: 4,
    versionDescription: "version:1.0.19",
    fs: new DenoServerFs(),
    backend: init.backend ?? new FileBackend(`${baseDir}/_images`),
    config: {
      baseDir,
      discardPolicy: "zero",
      fsyncIntervalBytes: 1 << 20,
      maxOpenDiffs: 0,
      autoResize: false,
      keepOneColdSnap: false,
      maxWdiffSendNr: 1000,
      maxOpenVirt: 0,
    },
  });
}
