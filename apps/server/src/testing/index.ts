/** Test support for suites that run the relay as a process (`@sotto/server-app/testing`). */
export {
  DEV_SMS_PREFIX,
  RELAY_MAIN,
  processCpuMs,
  processMemoryKb,
  spawnRelay,
  type RelayProcess,
} from './relay-process.js';
