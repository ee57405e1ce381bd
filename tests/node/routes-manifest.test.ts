import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MANIFEST_FILE, manifestSource, routeManifest } from "../../scripts/routes-manifest.ts";
import { createApp } from "#src/app.ts";
import { loadAll, mountedPath } from "#src/lib/lazy-routes.ts";
import { memoryPlatform } from "#src/platform/memory/adapters.ts";
import { FEATURES } from "#src/routes.ts";

describe("the route manifest", () => {
  it("is what the feature routers declare (else: npm run routes)", async () => {
    expect(readFileSync(MANIFEST_FILE, "utf8")).toBe(manifestSource(await routeManifest()));
  });

  it("registers every feature route in the app, in the routers' order, before any feature loads", async () => {
    const app = createApp(memoryPlatform(async () => {}));
    const registered = app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${route.path}`);
    const routers = await loadAll(FEATURES);
    const declared: string[] = [];
    for (const [name, feature] of Object.entries(FEATURES)) {
      for (const route of routers[name as keyof typeof FEATURES].routes) {
        const key = `${route.method} ${mountedPath(feature, route.path)}`;
        if (!declared.includes(key)) declared.push(key);
      }
    }
    expect(declared.length).toBeGreaterThan(80);
    expect(registered.filter((route) => declared.includes(route))).toEqual(declared);
  });
});
