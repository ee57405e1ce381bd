import { SELF } from "cloudflare:test";
import { hc } from "hono/client";
import { beforeAll, describe, expect, it } from "vitest";
import type { AppType } from "#src/routes.ts";
import { createTenant, type Tenant, uniqueIp } from "./fixtures.ts";

/**
 * The app's exported AppType drives Hono's `hc` client. The calls below are checked by `npm run
 * typecheck`: each @ts-expect-error must be an error (a wrong field, method or answer type), or the
 * typecheck fails on the unused directive. The test then runs the client against the Worker.
 */
const client = (headers: Record<string, string>) =>
  hc<AppType>("http://tend.test", { fetch: (input: RequestInfo | URL, init?: RequestInit) => SELF.fetch(input, init), headers });

function typeChecks(api: ReturnType<typeof client>) {
  void api.api.v1.members.$get({ query: { limit: "10" } });
  void api.api.v1.organization.$patch({ json: { locale: "en-GB" } });
  // @ts-expect-error: PATCH /organization takes no such field
  void api.api.v1.organization.$patch({ json: { colour: "blue" } });
  // @ts-expect-error: there is no DELETE /organization
  void api.api.v1.organization.$delete();
  void api.api.v1["api-keys"][":id"].rotate.$post({ param: { id: crypto.randomUUID() }, header: {} });
}
void typeChecks;

describe("the typed hc client", () => {
  let tenant: Tenant;
  beforeAll(async () => {
    tenant = await createTenant("Typed Client Practice");
  });

  it("reads the organization with the answer typed from its route declaration", async () => {
    const response = await client({ ...tenant.members.owner.headers, "CF-Connecting-IP": uniqueIp() }).api.v1.organization.$get();
    expect(response.status).toBe(200);
    if (response.status !== 200) return;
    const organization = await response.json();
    const name: string = organization.name;
    // @ts-expect-error: the answer has no such field
    void organization.colour;
    expect(name).toBe("Typed Client Practice");
    expect(organization.id).toBe(tenant.organizationId);
  });
});
