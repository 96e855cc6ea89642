/**
 * @sotto/backup-storage-s3 — backup archives in an S3-compatible bucket (docs/backups.md
 * "Storage"): `S3BackupStorage` implements @sotto/backup's `BackupStorage` port and passes its
 * conformance suite (tested against s3rver, a local S3-compatible server).
 */
export { S3BackupStorage, type S3BackupStorageOptions } from './s3-backup-storage.js';
export * as limits from './limits.js';
