/**
 * Yield to the event loop before every test. Tests that spawn tshark synchronously and read captures through
 * promise chains can otherwise run a whole file without a macrotask turn; vitest's worker then never sees the
 * main process's replies and reports "Timeout calling onTaskUpdate" after 60 s.
 */
import { beforeEach } from 'vitest';

beforeEach(async () => {
  await new Promise<void>((resolve) => setImmediate(resolve));
});
