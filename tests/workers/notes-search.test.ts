import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "#src/db/schema/index.ts";
import { addMember, insertCaredPatient, insertPatient } from "./clinical.ts";
import { createTenant, jsonBody, type Member, type Tenant } from "./fixtures.ts";
import { api, problemOf, testDb } from "./helpers.ts";

interface Hit {
  note: { id: string; patientId: string; status: string };
  rank: number;
  snippet: string;
  matchedIn: string[];
}
interface Page {
  data: Hit[];
  nextCursor: string | null;
}

/** A word no other note holds (letters only, so the stemmer keeps it whole). */
const uniqueWord = () =>
  `zq${Array.from(crypto.getRandomValues(new Uint8Array(8)), (byte) => String.fromCharCode(97 + (byte % 26))).join("")}`;

async function note(member: Member, patientId: string, text: string, sign = false): Promise<string> {
  const created = await api(`/api/v1/patients/${patientId}/notes`, jsonBody({ format: "free", content: { text } }, member.headers));
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: string };
  if (sign) expect((await api(`/api/v1/notes/${id}/sign`, { method: "POST", headers: member.headers })).status).toBe(200);
  return id;
}

async function search(member: { headers: Record<string, string> }, q: string, extra = ""): Promise<Page> {
  const response = await api(`/api/v1/notes/search?q=${encodeURIComponent(q)}${extra}`, { headers: member.headers });
  expect(response.status).toBe(200);
  return (await response.json()) as Page;
}

const ids = (page: Page) => page.data.map((hit) => hit.note.id);

describe("note search", () => {
  let tenant: Tenant;
  let foreign: Tenant;
  let patientId: string;
  let clinician: Member;
  let outsider: Member;

  beforeAll(async () => {
    [tenant, foreign] = await Promise.all([createTenant("Search Practice"), createTenant("Foreign Search Practice")]);
    clinician = tenant.members.clinician;
    outsider = await addMember(tenant, "clinician");
    patientId = await insertCaredPatient(tenant);
  });

  it("ranks a note that mentions the word three times above one that mentions it once", async () => {
    const word = uniqueWord();
    const once = await note(clinician, patientId, `Discussed ${word} briefly, then moved on to work and family matters.`);
    const thrice = await note(clinician, patientId, `${word} in the morning, ${word} at work, ${word} before sleep.`);
    const page = await search(clinician, word);
    expect(ids(page)).toEqual([thrice, once]);
    expect(page.data[0]?.rank).toBeGreaterThan(page.data[1]?.rank ?? Infinity);
  });

  it("honours quoted phrases, -word exclusion and or", async () => {
    const [a, b, c] = [uniqueWord(), uniqueWord(), uniqueWord()];
    const phrase = await note(clinician, patientId, `Practised ${a} ${b} daily.`);
    const apart = await note(clinician, patientId, `${b} was hard; ${a} was easier.`);
    const withC = await note(clinician, patientId, `${a} and ${c} together.`);
    expect(ids(await search(clinician, `"${a} ${b}"`))).toEqual([phrase]);
    expect(ids(await search(clinician, `${a} -${c}`)).sort()).toEqual([phrase, apart].sort());
    expect(ids(await search(clinician, `${c} or ${b}`)).sort()).toEqual([phrase, apart, withC].sort());
  });

  it("escapes HTML in snippets and marks the matches", async () => {
    const word = uniqueWord();
    await note(clinician, patientId, `<script>alert(1)</script> ${word}`);
    const [hit] = (await search(clinician, word)).data;
    expect(hit?.snippet).toBe(`&lt;script&gt;alert(1)&lt;/script&gt; <mark>${word}</mark>`);
    expect(hit?.matchedIn).toEqual(["note"]);
    const after = uniqueWord();
    await note(clinician, patientId, `Wrote ${after} <b onmouseover="steal()">bold</b> &amp; <img src=x onerror=alert(2)> more`);
    const [second] = (await search(clinician, after)).data;
    expect(second?.snippet).toContain(`<mark>${after}</mark>`);
    expect(second?.snippet).toContain("&lt;b onmouseover=&quot;steal()&quot;&gt;bold&lt;/b&gt; &amp;amp");
    expect(second?.snippet.replace(/<\/?mark>/g, "")).not.toMatch(/[<>"]/);
  });

  it("searches addenda too, with their text highlighted", async () => {
    const word = uniqueWord();
    const id = await note(clinician, patientId, "Session notes without the word.", true);
    const added = await api(`/api/v1/notes/${id}/addenda`, jsonBody({ body: `Correction: <i>${word}</i> was reported.` }, clinician.headers));
    expect(added.status).toBe(201);
    const [hit] = (await search(clinician, word)).data;
    expect(hit?.note.id).toBe(id);
    expect(hit?.matchedIn).toEqual(["addendum"]);
    expect(hit?.snippet).toContain(`&lt;i&gt;<mark>${word}</mark>&lt;/i&gt;`);
  });

  it("never shows a note out of reach: not to a clinician off the care team, another tenant, staff or caregivers", async () => {
    const word = uniqueWord();
    const id = await note(clinician, patientId, `Private ${word} detail.`);
    expect((await search(outsider, word)).data).toEqual([]);
    expect((await search(foreign.members.owner, word)).data).toEqual([]);
    expect(ids(await search(tenant.members.owner, word))).toEqual([id]);
    expect(ids(await search(tenant.members.admin, word))).toEqual([id]);
    for (const role of ["staff", "caregiver", "patient"] as const) {
      const response = await api(`/api/v1/notes/search?q=${word}`, { headers: tenant.members[role].headers });
      expect(response.status).toBe(403);
    }
    const issued = await api("/api/v1/api-keys", jsonBody({ name: "search key", scopes: ["notes:read"] }, tenant.members.owner.headers));
    const { key } = (await issued.json()) as { key: string };
    expect(ids(await search({ headers: { "X-API-Key": key } }, word))).toEqual([id]);
  });

  it("a clinician finds the notes of their own care-team patients only", async () => {
    const word = uniqueWord();
    const theirs = await insertPatient(tenant, { careTeam: [{ userId: outsider.id }] });
    const mine = await note(clinician, patientId, `${word} one`);
    const other = await note(outsider, theirs, `${word} two`);
    expect(ids(await search(clinician, word))).toEqual([mine]);
    expect(ids(await search(outsider, word))).toEqual([other]);
    expect(ids(await search(tenant.members.owner, word)).sort()).toEqual([mine, other].sort());
  });

  it("pages by a (rank, id) cursor without repeats or gaps", async () => {
    const word = uniqueWord();
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push(await note(clinician, patientId, `${`${word} `.repeat(i + 1)}end`));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await search(clinician, word, `&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...ids(page));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(created.toReversed());
    // Equal ranks break on id, so a page boundary inside a tie loses nothing.
    const twin = uniqueWord();
    const twins = [await note(clinician, patientId, `${twin} same`), await note(clinician, patientId, `${twin} same`), await note(clinician, patientId, `${twin} same`)];
    const first = await search(clinician, twin, "&limit=2");
    const rest = await search(clinician, twin, `&limit=2&cursor=${first.nextCursor}`);
    expect([...ids(first), ...ids(rest)]).toEqual(twins.toReversed());
  });

  it.each([
    ["an empty query", ""],
    ["only spaces", "   "],
    ["only stop words", "the and of"],
    ["only punctuation", "!!! ---"],
    ["only an excluded word", "-anxiety"],
    ["an alternative that is only an exclusion", "anxiety or -sleep"],
    ["a query over 200 characters", "a".repeat(201)],
    ["control characters", "anxiety\u0001"],
  ])("answers 422 naming query.q for %s, and audits nothing", async (_label, q) => {
    const response = await api(`/api/v1/notes/search?q=${encodeURIComponent(q)}`, { headers: clinician.headers });
    expect(response.status).toBe(422);
    const problem = await problemOf(response);
    expect(JSON.stringify(problem.errors)).toContain("query.q");
    const requestId = response.headers.get("X-Request-ID") ?? "";
    expect(await testDb().select().from(auditEvents).where(eq(auditEvents.requestId, requestId))).toEqual([]);
  });

  it("answers 422 without q and to a tampered cursor", async () => {
    expect((await api("/api/v1/notes/search", { headers: clinician.headers })).status).toBe(422);
    const tampered = await api("/api/v1/notes/search?q=anxiety&cursor=eyJyYW5rIjoiYSJ9", { headers: clinician.headers });
    expect(tampered.status).toBe(422);
    expect(JSON.stringify((await problemOf(tampered)).errors)).toContain("query.cursor");
  });

  it("writes one audit row with the request id, the returned note ids and their patients", async () => {
    const word = uniqueWord();
    const id = await note(clinician, patientId, `${word} audited`);
    const response = await api(`/api/v1/notes/search?q=${word}`, { headers: clinician.headers });
    const requestId = response.headers.get("X-Request-ID") ?? "";
    const rows = await testDb().select().from(auditEvents).where(and(eq(auditEvents.requestId, requestId), eq(auditEvents.organizationId, tenant.organizationId)));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "note.searched", actorUserId: clinician.id, patientIds: [patientId] });
    expect(rows[0]?.metadata).toEqual({ noteIds: [id], count: 1 });
    const empty = await api(`/api/v1/notes/search?q=${uniqueWord()}`, { headers: outsider.headers });
    const emptyRows = await testDb().select().from(auditEvents).where(eq(auditEvents.requestId, empty.headers.get("X-Request-ID") ?? ""));
    expect(emptyRows).toHaveLength(1);
    expect(emptyRows[0]).toMatchObject({ action: "note.searched", patientIds: [] });
    expect(emptyRows[0]?.metadata).toEqual({ noteIds: [], count: 0 });
  });
});
