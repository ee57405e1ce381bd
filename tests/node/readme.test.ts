import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROLES } from "#src/db/schema/identity.ts";
import { PERMISSIONS, ROLE_PERMISSIONS } from "#src/lib/permissions.ts";

describe("the README's role table", () => {
  it("says exactly what the permission matrix enforces", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
    const rows = readme
      .split("\n")
      .filter((line) => /^\| [a-z-]+:[a-z-]+ \|/.test(line))
      .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
    expect(rows.map((row) => row[0])).toEqual([...PERMISSIONS]);
    for (const row of rows) {
      const granted = ROLES.filter((role, index) => row[index + 1] === "✓");
      const expected = ROLES.filter((role) => ROLE_PERMISSIONS[role].has(row[0] as never));
      expect({ permission: row[0], roles: granted }).toEqual({ permission: row[0], roles: expected });
    }
  });
});
