// Registers the referentials' services with the hub: their adapter bindings, and a plug-in that binds each service
// of MA/GOV/HUB/referentials to its adapter at start (so a fresh database serves them at once).
import { bindService, registerAdapterBinding } from '../src/exchange/bindings.ts';
import { hubSubsystems } from '../src/hub/bootstrap.ts';
import { registerPlugin } from '../src/plugins.ts';
import { territoryAdapter, territoryService } from './territory/service.ts';

registerAdapterBinding(territoryAdapter, territoryService);

registerPlugin({
  name: 'referential-services',
  async start(context) {
    const serviceId = `${hubSubsystems(context.config.HUB_ID).referentials}/territory`;
    const binding = context.services.directory.binding(serviceId);
    if (binding?.kind !== 'adapter' || binding.adapter !== territoryAdapter) {
      await bindService(context.db, { serviceId, binding: { kind: 'adapter', adapter: territoryAdapter, timeoutMs: 5000 }, actor: 'hub-bootstrap' });
      await context.services.directory.reload();
    }
    return undefined;
  },
});
