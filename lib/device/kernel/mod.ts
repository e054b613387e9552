/**
 * The WalB kernel driver's control interface as pure encodings: ioctl numbers, `walb_ctl`,
 * command codes, START_DEV/LIST_DEV buffers and the sysfs `lsids` text. The kernel backend
 * that performs the ioctls builds on these. No kernel module exists in the test environment,
 * so these are tested on their encodings only.
 *
 * @module
 */
export * from "./ctl.ts";
export * from "./sysfs.ts";
