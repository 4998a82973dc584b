import { MAX_INVENTORY_HOSTS } from '@runbooks/contracts';
import express, { json } from 'express';
import request from 'supertest';
import { INVENTORY_BODY_LIMIT } from './create-app';

/** An ssh host as an estate names it: a fully qualified name, tags, a key by reference and a pinned host key. */
function pinnedSshHost(i: number): Record<string, unknown> {
  return {
    name: `web-prod-${String(i).padStart(6, '0')}.dc1.example.com`,
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 22,
    osFamily: 'debian',
    tags: ['prod', 'web', 'dc1'],
    driver: 'ssh',
    ssh: { user: 'runbooks', privateKeyRef: 'secret:ssh/fleet-key', hostKeySha256: 'uP1Y0fnJ0Z4bH5m2kqQnq0f3z1xq0nH3e5e9mJmG0Lw' },
  };
}

describe('PUT /v1/inventory body limit', () => {
  it('lets through an inventory of as many pinned ssh hosts as the schema allows (MAX_INVENTORY_HOSTS)', async () => {
    const app = express();
    app.put('/v1/inventory', json({ limit: INVENTORY_BODY_LIMIT }), (req, res) => {
      res.json({ hosts: (req.body as { hosts: unknown[] }).hosts.length });
    });
    const hosts = Array.from({ length: MAX_INVENTORY_HOSTS }, (_, i) => pinnedSshHost(i));

    const res = await request(app).put('/v1/inventory').set('content-type', 'application/json').send(JSON.stringify({ hosts }));

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ hosts: MAX_INVENTORY_HOSTS });
  });
});
