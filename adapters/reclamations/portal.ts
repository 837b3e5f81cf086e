// The citizen portal's side (MA/GOV/ADD/portail-citoyen) of the complaints' status notifications, as a small real
// HTTP server: the hub forwards to it, under the convention of service `complaint-status`, each status change the
// complaints adapter sends. It keeps, per tracking number, the change with the highest version (a notification sent
// again, or late, never takes a complaint back), and shows it on GET /complaints/:number. It does not check the hub's
// forward signature (the BTP simulator shows how a provider does: adapters/btp-qualification/hub-signature.ts).
import { Hono } from 'hono';
import { z } from 'zod';
import { serveFetch } from '../shared/local-server.ts';

export const notificationSchema = z.object({
  number: z.string().regex(/^REC-[0-9]{4}-[0-9]{6}$/),
  status: z.string().min(1).max(40),
  statusLabel: z.string().max(200),
  at: z.iso.datetime({ offset: true }),
  service: z.string().max(20).nullable(),
  deadline: z.iso.date(),
  version: z.number().int().min(1),
  cin: z.string().max(10).nullable(),
  ice: z.string().max(15).nullable(),
});
export type StatusNotification = z.infer<typeof notificationSchema>;

export interface PortalReceiver {
  url: string;
  /** The latest notification per tracking number. */
  latest: Map<string, StatusNotification>;
  /** Every notification received, in arrival order (duplicates included). */
  received: StatusNotification[];
  /** Answer this status to the next notifications instead of 200 (a portal down: 503). */
  failWith: number | undefined;
  close(): Promise<void>;
}

export async function startPortalReceiver(options: { port?: number } = {}): Promise<PortalReceiver> {
  const latest = new Map<string, StatusNotification>();
  const received: StatusNotification[] = [];
  const state = { failWith: undefined as number | undefined };
  const app = new Hono();
  app.post('/complaints/:number/status', async (c) => {
    if (state.failWith !== undefined) return c.json({ title: 'the portal is unavailable', status: state.failWith }, state.failWith as 503);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      body = undefined;
    }
    const parsed = notificationSchema.safeParse(body);
    if (!parsed.success || parsed.data.number !== c.req.param('number')) return c.json({ title: 'not a status notification of this complaint', status: 400 }, 400);
    received.push(parsed.data);
    const held = latest.get(parsed.data.number);
    if (!held || held.version < parsed.data.version) latest.set(parsed.data.number, parsed.data);
    return c.json({ number: parsed.data.number, received: true, cin: parsed.data.cin, ice: parsed.data.ice });
  });
  app.get('/complaints/:number', (c) => {
    const held = latest.get(c.req.param('number'));
    return held ? c.json(held) : c.json({ title: 'no news of this complaint', status: 404 }, 404);
  });
  const { url, close } = await serveFetch(app.fetch, { ...(options.port !== undefined ? { port: options.port } : {}), dropInFlight: true });
  return {
    url,
    latest,
    received,
    get failWith() {
      return state.failWith;
    },
    set failWith(value: number | undefined) {
      state.failWith = value;
    },
    close,
  };
}
