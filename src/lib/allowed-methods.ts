import type { RouterRoute } from "hono/types";

interface RoutePattern {
  regex: RegExp;
  methods: Set<string>;
}

function toRegex(path: string): RegExp {
  const pattern = path
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) return "[^/]+";
      return segment.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  // No optional trailing slash: the app (strict: false) took one off the path before routing,
  // and a path the router does not route (`/patients//`) is a 404, not a 405.
  return new RegExp(`^${pattern}$`);
}

/**
 * Answers which methods a path supports, so an unmatched request can be told 405 (with `Allow`)
 * instead of 404 when the path exists under another method. Middleware (method ALL) is ignored.
 */
export function allowedMethodsIndex(routes: RouterRoute[]): (path: string) => string[] {
  const byPath = new Map<string, RoutePattern>();
  for (const route of routes) {
    if (route.method === "ALL") continue;
    const entry = byPath.get(route.path) ?? { regex: toRegex(route.path), methods: new Set<string>() };
    entry.methods.add(route.method);
    if (route.method === "GET") entry.methods.add("HEAD");
    byPath.set(route.path, entry);
  }
  return (path) => {
    const methods = new Set<string>();
    for (const entry of byPath.values()) {
      if (entry.regex.test(path)) for (const method of entry.methods) methods.add(method);
    }
    return [...methods].sort();
  };
}
