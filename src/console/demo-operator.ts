// On the embedded default (no DATABASE_URL, demo not off), a demo admin for the console: created once, its id and
// password in DATA_DIR/demo/console-admin (mode 0600), named in the start banner. Never on PostgreSQL: a real
// deployment's operators are created by people (`tabadol operator add` and `passwd`), not by a start.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { activeOperator, addOperator, setOperatorPassword } from '../identity/operators.ts';
import type { HubPlugin } from '../plugins.ts';

const actor = 'demo:console';

export const consoleDemoPlugin: HubPlugin = {
  name: 'console demo operator',
  async start({ config, db, hubUrl }) {
    if (config.DATABASE_URL || config.DEMO === 'off') return undefined;
    const dir = join(config.DATA_DIR, 'demo');
    const file = join(dir, 'console-admin');
    const kept = existsSync(file) ? /^operator: ([a-f0-9]{16})$/m.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
    if (!kept || !(await activeOperator(db, kept))) {
      const { operator } = await addOperator(db, { name: 'Administrateur de démonstration', role: 'admin', actor });
      const password = randomBytes(18).toString('base64url');
      await setOperatorPassword(db, { id: operator.id, password, actor });
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, `operator: ${operator.id}\npassword: ${password}\n`, { mode: 0o600 });
    }
    // The password stays out of the banner and the logs: the file is readable by this user only.
    return { banner: `console        ${hubUrl.replace('127.0.0.1', 'localhost')}/console (demo admin: operator id and password in ${file})`, stop: async () => undefined };
  },
};
