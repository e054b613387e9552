/**
 * The NBD export of a userland WalB device: {@link WalbNbdBackend} turns NBD requests into
 * engine calls. WRITE → a logged write (FUA honoured), FLUSH → an ldev flush making every
 * acknowledged write durable, TRIM → a DISCARD record (the ddev range is hole-punched and
 * reads as zeros), WRITE_ZEROES → written zeros (the driver offers no WRITE_ZEROES, so zeros
 * go into the log as data, §9 SHOULD).
 *
 * @module
 */
import {
  type BlockSizes,
  type NbdBackend,
  NbdIoError,
  type WriteOptions,
} from "../../nbd/backend.ts";
import { NBD_EINVAL, NBD_EIO, NBD_ENOSPC, NBD_EPERM, NBD_ESHUTDOWN } from "../../nbd/protocol.ts";
import type { WalbEngine } from "../walb/engine.ts";
import { WalbEngineError } from "../walb/errors.ts";
import { USERLAND_LIMITS } from "./limits.ts";

/** The NBD error value for an engine error code. */
function nbdErrnoOf(error: WalbEngineError): number {
  switch (error.code) {
    case "EINVAL":
      return NBD_EINVAL;
    case "ENOSPC":
      return NBD_ENOSPC;
    case "ESHUTDOWN":
      return NBD_ESHUTDOWN;
    case "EROFS":
      return NBD_EPERM;
    default:
      return NBD_EIO;
  }
}

/** Runs an engine call, turning its refusals into NBD error replies. */
async function nbdCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof WalbEngineError) {
      throw new NbdIoError(nbdErrnoOf(error), error.message, { cause: error });
    }
    throw error;
  }
}

/**
 * Serves a {@link WalbEngine} as an NBD export.
 *
 * @example
 * ```ts
 * import { MemoryDevice } from "../block/memory_device.ts";
 * import { ManualClock } from "../../testing/clock.ts";
 * import { formatLdev, WalbEngine } from "../walb/mod.ts";
 * import { WalbNbdBackend } from "./nbd_backend.ts";
 * const ldev = new MemoryDevice({ sizeBytes: 1 << 20 });
 * const ddev = new MemoryDevice({ sizeBytes: 1 << 22 });
 * await formatLdev(ldev, ddev);
 * const engine = await WalbEngine.open(ldev, ddev, { clock: new ManualClock() });
 * const backend = new WalbNbdBackend(engine);
 * await backend.write(0, new Uint8Array(4096).fill(7), { fua: true });
 * if ((await backend.read(0, 512))[0] !== 7) throw new Error("read after write");
 * await engine.stop();
 * ```
 */
export class WalbNbdBackend implements NbdBackend {
  readonly #engine: WalbEngine;
  readonly blockSizes: BlockSizes;
  readonly readOnly = false;
  readonly canTrim = true;
  readonly canWriteZeroes = true;
  readonly canMultiConn = true;
  /**
   * The engine copies small payloads into its logpacks (`data` is free once a write settles);
   * big ones come from {@link takeWriteBuffer} and stay the engine's.
   */
  readonly reusesWriteData = true;

  constructor(engine: WalbEngine) {
    this.#engine = engine;
    this.blockSizes = {
      minimum: 512,
      preferred: Math.max(4096, engine.pbs),
      maximum: USERLAND_LIMITS.nbdRequestSizeMax,
    };
  }

  get sizeBytes(): number {
    return this.#engine.sizeBytes;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return nbdCall(() => this.#engine.read(offset, length));
  }

  tryReadSync(offset: number, target: Uint8Array): boolean {
    return this.#engine.tryReadIntoSync(offset, target);
  }

  readInto(offset: number, target: Uint8Array): Promise<void> {
    return nbdCall(() => this.#engine.readInto(offset, target));
  }

  /** Big payloads go into the engine's pooled page-aligned buffers, logged without a copy. */
  takeWriteBuffer(length: number): Uint8Array | undefined {
    return this.#engine.takeWriteBuffer(length);
  }

  write(offset: number, data: Uint8Array, options: WriteOptions): Promise<void> {
    return nbdCall(() => this.#engine.write(offset, data, { fua: options.fua }));
  }

  flush(): Promise<void> {
    return nbdCall(() => this.#engine.flush());
  }

  trim(offset: number, length: number, options: WriteOptions): Promise<void> {
    return nbdCall(async () => {
      await this.#engine.discard(offset, length);
      if (options.fua) await this.#engine.flush();
    });
  }
}
