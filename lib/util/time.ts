/** Units for named constants: `READ_TIMEOUT = 10 * SECOND`. */
export const MILLISECOND = 1;
export const SECOND = 1000 * MILLISECOND;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const BYTE = 1;
export const KiB = 1024 * BYTE;
export const MiB = 1024 * KiB;
