// The kernel process's entry (forked by exec/pool.ts). Ctrl-C reaches the whole process group: the
// orchestrator, not each kernel, decides what it means, so a kernel ignores SIGINT and SIGTERM, set
// here before anything else loads (DuckDB's module takes a moment, and a signal in that moment
// would kill the kernel mid-start).
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
await import('./worker.js');
export {};
