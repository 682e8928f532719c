import { Command, Option } from 'commander';

/** Adds the flags every command takes (--json, --debug) to a command. */
export function withCommonFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--json', 'print the result as one JSON object on the last line of stdout (human text goes to stderr)'))
    .addOption(new Option('--debug', 'show stack traces on errors'));
}

/** Adds an "Example:" block to a command's help. */
export function withExamples(cmd: Command, ...examples: string[]): Command {
  return cmd.addHelpText('after', '\nExamples:\n' + examples.map((e) => '  $ ' + e).join('\n'));
}
