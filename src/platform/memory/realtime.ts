import type { Realtime } from "#src/platform/ports.ts";

/** In-process live updates for Deno. (Skeleton: issue 8's realtime work fills it in.) */
export function memoryRealtime(): Realtime {
  return {
    publish: async () => undefined,
    connect: async () => new Response(null, { status: 501 }),
    disconnect: async () => undefined,
  };
}
