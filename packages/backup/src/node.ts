/**
 * @sotto/backup/node — adapters that need Node's file system. Kept out of the main entry so the
 * browser bundle never pulls in `node:fs`.
 */
export { LocalDirectoryStorage } from './storage/local-directory.js';
