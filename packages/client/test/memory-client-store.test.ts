/** The in-memory client store passes the port's conformance suite. */
import { runClientStoreConformance, createMemoryClientStore } from '../src/testing/index.js';

runClientStoreConformance('memory', () => createMemoryClientStore());
