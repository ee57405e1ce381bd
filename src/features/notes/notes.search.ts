import { type SQL, sql } from "drizzle-orm";
import type { TenantScope } from "#src/db/scope.ts";
import { noteVisible } from "#src/lib/access.ts";
import { type AuditOrigin, actorOf, auditFromCte } from "#src/lib/audit.ts";
import type { AuthContext } from "#src/middleware/auth.ts";
import { NOTE_COLUMNS } from "#src/features/notes/notes.repo.ts";

/**
 * Search snippets that are safe to render. Postgres marks the matches with two sentinel control
 * characters (which no stored note can hold: longText() refuses control characters on input);
 * the snippet is then HTML-escaped as a whole, and only then are the sentinels turned into
 * `<mark>` and `</mark>`. Whatever HTML a note holds is shown as text.
 */
export const MATCH_START = "\u0001";
export const MATCH_STOP = "\u0002";

/**
 * Postgres's parser takes `<b>` for a tag, and ts_headline drops tags: that would hide the very
 * HTML a reader must see as text. So the headline's input is HTML-escaped in SQL first (`&`,
 * `<`, `>` as entities, which the parser keeps as tokens), and renderSnippet decodes exactly
 * those three entities before escaping everything itself: the escaping that makes the snippet
 * safe is this file's, never the database's.
 */
const ENTITIES: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&amp;": "&" };

export const SEARCH_QUERY_MAX_LENGTH = 200;

/**
 * ts_headline's options: one excerpt of 10–30 words around the best match. (Its fragment mode,
 * MaxFragments > 0, drops a fragment's leading entity, so an escaped `<script>` would lose its `<`.)
 */
export const HEADLINE_OPTIONS = `StartSel=${MATCH_START}, StopSel=${MATCH_STOP}, MaxWords=30, MinWords=10, ShortWord=2`;

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);

/** Escapes the headline, then marks the matches; an unbalanced sentinel (a cut fragment) is dropped. */
export function renderSnippet(headline: string): string {
  let open = false;
  let out = "";
  const decoded = headline.replace(/&(?:lt|gt|amp);/g, (entity) => ENTITIES[entity] ?? entity);
  for (const char of decoded) {
    if (char === MATCH_START) {
      if (!open) out += "<mark>";
      open = true;
    } else if (char === MATCH_STOP) {
      if (open) out += "</mark>";
      open = false;
    } else if (char >= " " || char === "\n" || char === "\t") {
      out += HTML_ESCAPES[char] ?? char;
    }
  }
  return open ? `${out}</mark>` : out;
}

/**
 * A note's searchable text, in reading order of its sections (SOAP, DAP, free text), for
 * ts_headline. The stored tsvector covers the same string values.
 */
export function noteTextSql(alias: string): SQL {
  const content = sql.raw(`${alias}.content`);
  const section = (name: string) => sql`nullif(${content}->>${name}::text, '')`;
  const sections = ["subjective", "objective", "data", "assessment", "plan", "text"].map(section);
  return headlineInput(sql`concat_ws(' ', ${sql.join(sections, sql`, `)})`);
}

/** Text for ts_headline: `&`, `<` and `>` as entities, so no tag is taken out. */
export const headlineInput = (text: SQL): SQL => sql`replace(replace(replace(${text}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')`;

export interface SearchInput {
  q: string;
  limit: number;
  after: { rank: number; id: string } | undefined;
}

/**
 * The ranked search, in one statement. Candidates come from the GIN indexes of both tables
 * (a note matches by its body or by any addendum), then only those the caller may read
 * (`noteVisible`) are ranked, paged and counted, so nothing about another note leaks. A note's
 * rank is its body's ts_rank_cd plus its best addendum's; ties break on id, and the cursor
 * carries (rank, id). Headlines are computed for the page only. The audit row names the notes
 * and patients returned; a query with nothing to look for (only stop words, punctuation or
 * negations) writes none, and the service answers 422.
 */
export function searchStatement(scope: TenantScope, origin: AuditOrigin, auth: AuthContext, input: SearchInput): SQL {
  const org = scope.organizationId;
  const query = sql`websearch_to_tsquery('english', ${input.q}::text)`;
  const after = input.after;
  const visible = noteVisible(auth, sql.raw("n.patient_id"));
  // A query the GIN index can serve: some word to look for on every branch (querytree is 'T'
  // for one that is only negations, like "-anxiety" or "anxiety or -sleep", and '' when empty).
  const searchable = sql`(querytree(${query}) not in ('', 'T'))`;
  return sql`
    with matched as (
      select n.id from progress_notes n where ${searchable} and n.organization_id = ${org} and n.search @@ ${query}
      union
      select a.note_id from note_addenda a where ${searchable} and a.organization_id = ${org} and a.search @@ ${query}
    ), ranked as (
      select ${NOTE_COLUMNS},
        (select count(*) from note_addenda a where a.organization_id = ${org} and a.note_id = n.id)::int as addenda_count,
        n.search @@ ${query} as in_note,
        (ts_rank_cd(n.search, ${query}) + coalesce((select max(ts_rank_cd(a.search, ${query})) from note_addenda a
          where a.organization_id = ${org} and a.note_id = n.id and a.search @@ ${query}), 0))::float8 as rank
      from matched m join progress_notes n on n.organization_id = ${org} and n.id = m.id
      where ${visible}
    ), page as (
      select * from ranked
      where ${after ? sql`(rank, id) < (${after.rank}::float8, ${after.id}::uuid)` : sql`true`}
      order by rank desc, id desc
      limit ${input.limit + 1}
    ), shown as (
      select * from page order by rank desc, id desc limit ${input.limit}
    ), summary as (
      select coalesce(array_agg(id order by rank desc, id desc), '{}'::uuid[]) as note_ids,
        coalesce(array_agg(distinct patient_id), '{}'::uuid[]) as patient_ids
      from shown having ${searchable}
    ), audit as (
      ${auditFromCte("summary", origin, {
        action: "note.searched",
        organizationId: org,
        ...actorOf(auth),
        targetType: "note",
        patientIds: sql`patient_ids`,
        metadata: sql`jsonb_build_object('noteIds', to_jsonb(note_ids), 'count', cardinality(note_ids))`,
      })}
    )
    select ${searchable} as searchable, p.*,
      case when p.in_note then ts_headline('english', ${noteTextSql("p")}, ${query}, ${HEADLINE_OPTIONS}) end as note_headline,
      (select ts_headline('english', ${headlineInput(sql`a.body`)}, ${query}, ${HEADLINE_OPTIONS}) from note_addenda a
        where a.organization_id = ${org} and a.note_id = p.id and a.search @@ ${query}
        order by ts_rank_cd(a.search, ${query}) desc, a.id limit 1) as addendum_headline
    from (select 1) as one left join page p on true
    order by p.rank desc, p.id desc`;
}
