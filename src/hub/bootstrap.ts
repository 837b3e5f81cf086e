// What every hub process makes sure of at start: the hub's own subsystems registered with its current public keys,
// and the bindings of the hub's own services.
import type { HubKeyring } from '../identity/hub-keys.ts';
import { bumpRegistryVersion } from '../storage/registry-version.ts';
import type { Db } from '../storage/db.ts';

export function hubSubsystems(hubId: string): { core: string; transparency: string; referentials: string } {
  const member = hubId.split('/').slice(0, 3).join('/');
  return { core: hubId, transparency: `${member}/transparency`, referentials: `${member}/referentials` };
}

export const transparencyService = 'accesses';
export const transparencyAdapter = 'hub:transparency';

export async function ensureHubIdentity(db: Db, keyring: HubKeyring): Promise<void> {
  const { core, transparency, referentials } = hubSubsystems(keyring.hubId);
  const member = core.split('/').slice(0, 3).join('/');
  await db.transaction(async (tx) => {
    // Several processes may start at once: serialise on the same lock as migrations.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('tabadol:bootstrap'))`);
    let changed = false;
    const insertMember = async (id: string, kind: 'member' | 'subsystem', name: string) => {
      const { rowCount } = await tx.query('INSERT INTO members (id, kind, name) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [id, kind, name]);
      if (rowCount > 0) changed = true;
    };
    await insertMember(member, 'member', 'tabadol hub');
    await insertMember(core, 'subsystem', 'tabadol hub core');
    await insertMember(transparency, 'subsystem', 'tabadol transparency service (who accessed my data)');
    await insertMember(referentials, 'subsystem', 'tabadol single referentials (territory, companies, persons, vehicles)');
    // The hub's subsystems sign as providers of the hub's own services with the hub's keys (retired ones stay for old signatures).
    for (const subsystem of [core, transparency, referentials]) {
      for (const jwk of keyring.jwks().keys) {
        const { 'tabadol.retired': _retired, ...publicJwk } = jwk;
        const { rowCount } = await tx.query(`INSERT INTO member_keys (member_id, kid, alg, jwk) VALUES ($1, $2, 'ES256', $3) ON CONFLICT DO NOTHING`, [subsystem, jwk.kid, publicJwk]);
        if (rowCount > 0) changed = true;
      }
    }
    const { rowCount } = await tx.query(
      `INSERT INTO service_bindings (service_id, kind, adapter, timeout_ms) VALUES ($1, 'adapter', $2, 10000) ON CONFLICT (service_id) DO NOTHING`,
      [`${transparency}/${transparencyService}`, transparencyAdapter],
    );
    if (rowCount > 0) changed = true;
    if (changed) await bumpRegistryVersion(tx);
  });
}
