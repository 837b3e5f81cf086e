// Registers the admin command groups on the program; each group lives in its own module.
import type { Command } from 'commander';
import type { CliDeps } from '../run.ts';
import { registerBackupCommands } from './backup.ts';
import { registerConventionCommands } from './convention.ts';
import { registerHubCommands } from './hub.ts';
import { registerImportCommand } from './import.ts';
import { registerKeysCommands } from './keys.ts';
import { registerLogCommands } from './log.ts';
import { registerMemberCommands } from './member.ts';
import { registerOperatorCommands } from './operator.ts';
import { registerServiceCommands } from './service.ts';
import { registerSyncCommands } from './subscription.ts';

export function registerAdminCommands(program: Command, deps: CliDeps): void {
  registerKeysCommands(program);
  registerMemberCommands(program, deps);
  registerOperatorCommands(program, deps);
  registerConventionCommands(program, deps);
  registerServiceCommands(program, deps);
  registerHubCommands(program, deps);
  registerLogCommands(program, deps);
  registerImportCommand(program, deps);
  registerSyncCommands(program, deps);
  registerBackupCommands(program, deps);
}
