/**
 * Entry point of the walb binary: `walb <subcommand> [args...]`.
 *
 * @module
 */
console.log("walb: not yet");
