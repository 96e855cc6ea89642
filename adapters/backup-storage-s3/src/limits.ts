/**
 * Limits of the S3-compatible backup storage adapter, each with its reason (CONVENTIONS.md).
 * Memory while uploading is about `partSize × queueSize`, whatever the archive's size.
 */

/** S3's smallest part (every part but the last must be at least 5 MiB). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** Part size by default: 10,000 parts (S3's maximum) of 8 MiB hold 78 GiB. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
/** Largest part this adapter buffers (S3 allows 5 GiB; memory is the bound here). */
export const MAX_PART_SIZE = 256 * 1024 * 1024;
/** Parts uploaded at once by default: two keep the link busy; memory is 16 MiB. */
export const DEFAULT_QUEUE_SIZE = 2;
/** Largest number of parts in flight. */
export const MAX_QUEUE_SIZE = 16;
/** Keys per ListObjectsV2 page (S3's maximum). */
export const LIST_PAGE_SIZE = 1000;
