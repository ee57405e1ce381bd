// Prints the CPU cost of one password verification (PBKDF2-SHA256, 100k iterations + pepper).
import { hashPassword, verifyPassword } from "../src/lib/password-hash.ts";
const peppers = [{ id: "p1", secret: "x".repeat(40) }];
const stored = await hashPassword("warm up the engine please", peppers);
const n = 20; const t0 = process.cpuUsage(); const w0 = performance.now();
for (let i = 0; i < n; i++) await verifyPassword("warm up the engine please", stored, peppers);
const cpu = process.cpuUsage(t0); console.log(`one hash: ${((cpu.user + cpu.system) / 1000 / n).toFixed(1)} ms CPU, ${((performance.now() - w0) / n).toFixed(1)} ms wall`);
