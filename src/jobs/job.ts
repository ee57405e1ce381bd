import { z } from "zod";

/** Every message on the jobs queue. Each carries the key that makes running it twice harmless. */
export const JobSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("maintenance.sweep"),
    /** The cron occurrence (ISO time) this sweep belongs to. */
    occurrence: z.string().min(1).max(64),
  }),
]);

export type Job = z.infer<typeof JobSchema>;
