/**
 * The userland WalB device: a daemon ({@link WalbDaemon}) serving a {@link WalbEngine} over
 * NBD with a JSON-lines control socket, the client ({@link UserlandWalbDevice}) that
 * implements the WalbDevice interface through it, and the run-directory naming every tool
 * shares ({@link userlandPaths}).
 *
 * @module
 */
export { controlCall, queryDaemon, UserlandWalbDevice } from "./client.ts";
export { type DaemonEngineOptions, WalbDaemon, type WalbDaemonOptions } from "./daemon.ts";
export { USERLAND_LIMITS } from "./limits.ts";
export { WalbNbdBackend } from "./nbd_backend.ts";
export {
  checkUserlandName,
  DEFAULT_RUN_DIR,
  defaultRunDir,
  freeUserlandName,
  splitControlPath,
  userlandNames,
  type UserlandPaths,
  userlandPaths,
} from "./paths.ts";
export { CONTROL_OPS, type ControlOp, type ControlRequest, type DaemonInfo } from "./protocol.ts";
