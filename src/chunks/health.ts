// The `health` chunk of the deployed bundle (src/routes.ts): liveness and readiness: its own, the cheapest first request of an isolate.
export { healthRouter } from "#src/features/health/health.index.ts";
