export { WORKER_EXEC_ARGV } from '../core/worker-argv.js';
