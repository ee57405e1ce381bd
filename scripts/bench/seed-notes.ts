// The notes feature's bench seeder, called by scripts/bench/clinical.ts: `count` progress notes
// (SOAP, DAP and free text) by one author over the given patients, written in a few set-based
// statements (generate_series, 2,500 rows each) straight into the bench stack's database in the
// system scope. Two thirds are signed, their content_hash computed in SQL exactly as
// POST /notes/{id}/sign does (src/features/notes/notes.canonical.ts); one signed note in ten
// carries an addendum, so the search covers both tables. The phrase and word of NOTE_QUERY occur
// together in about one note in nine, and `anxiety` alone in more, so the ranked search sorts
// hundreds of hits, as a clinic's would.
import { neon, neonConfig, type NeonQueryFunction } from "@neondatabase/serverless";
import { sql as drizzleSql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { noteHashSql } from "../../src/features/notes/notes.canonical.ts";
import { SQL_UUIDV7 } from "../../src/lib/ids.ts";
import { devConfig } from "./api.ts";

type Sql = NeonQueryFunction<false, false>;

export const NOTE_QUERY = '"sleep hygiene" anxiety';
const BATCH = 2500;

const SUBJECTIVE = [
  "Reports poor sleep and racing thoughts at night",
  "Feels calmer since starting the breathing exercises",
  "Describes low mood and loss of appetite for two weeks",
  "Anxiety before work meetings; sleep hygiene improving",
  "Missed two doses of medication this week",
  "Worried about the move, anxiety worse in the evenings",
  "Sleeping better, fewer panic attacks",
  "Knee pain after gardening, worse on stairs",
  "Argument with a sibling, tearful since",
];
const OBJECTIVE = ["Calm, good eye contact", "Tearful at times, speech normal", "Blood pressure 128/82", "GAD-7 score 11", "PHQ-9 score 14", "Restless, fidgeting"];
const ASSESSMENT = ["Generalised anxiety, improving", "Moderate depressive episode", "Insomnia linked to stress", "Adherence problem", "Stable, no change", "Panic disorder, partial response"];
const PLAN = [
  "Continue weekly CBT and the sleep hygiene plan",
  "Behavioural activation; review in two weeks",
  "Pill organiser; caregiver to check in each morning",
  "Progressive muscle relaxation before bed",
  "Refer to the memory clinic",
  "Graded exposure homework",
];
const ADDENDA = [
  "Correction: the GAD-7 score was 12, not 11",
  "Late entry: caregiver called, anxiety settled overnight",
  "Reviewed with supervisor; plan unchanged",
];

export interface SeedNotesInput {
  env: NodeJS.ProcessEnv;
  organizationId: string;
  authorId: string;
  patientIds: string[];
  count: number;
}

/** SQL for the `index`th entry (wrapping) of the pool named `pool` in the `pools` CTE. */
const pick = (pool: string, index: string) => `((pools.j -> '${pool}') ->> ((${index}) % jsonb_array_length(pools.j -> '${pool}')))`;

function database(env: NodeJS.ProcessEnv): Sql {
  const config = devConfig(env);
  const endpoint = config.DATABASE_HTTP_ENDPOINT;
  if (endpoint) neonConfig.fetchEndpoint = () => endpoint;
  return neon(config.DATABASE_URL ?? "");
}

/** `count` notes in ceil(count / 2,500) inserts, then one signing update and one addenda insert: all in one transaction. */
export async function seedNotes(input: SeedNotesInput): Promise<{ inserted: number; query: string }> {
  const { organizationId: org, authorId, count } = input;
  if (count <= 0 || input.patientIds.length === 0) return { inserted: 0, query: NOTE_QUERY };
  const sql = database(input.env);
  const pools = JSON.stringify({ s: SUBJECTIVE, o: OBJECTIVE, a: ASSESSMENT, p: PLAN, d: ADDENDA });
  const patients = JSON.stringify(input.patientIds);
  const inserts = [];
  for (let offset = 0; offset < count; offset += BATCH) {
    const last = Math.min(offset + BATCH, count) - 1;
    inserts.push(
      sql.query(
        `with pools as (select $1::jsonb as j), ids as (select $2::jsonb as p)
        insert into progress_notes (id, organization_id, patient_id, author_id, format, content, created_at, updated_at)
        select ${SQL_UUIDV7}, $3::uuid, (ids.p ->> (g % jsonb_array_length(ids.p)))::uuid, $4::uuid, f.format,
          case f.format
            when 'soap' then jsonb_build_object('subjective', ${pick("s", "g")}, 'objective', ${pick("o", "g / 9")},
              'assessment', ${pick("a", "g / 7")}, 'plan', ${pick("p", "g / 5")})
            when 'dap' then jsonb_build_object('data', ${pick("s", "g / 3")} || '. ' || ${pick("o", "g")}, 'assessment', ${pick("a", "g / 2")}, 'plan', ${pick("p", "g / 11")})
            else jsonb_build_object('text', ${pick("s", "g / 13")} || '. ' || ${pick("p", "g / 3")})
          end,
          now() - make_interval(mins => g), now() - make_interval(mins => g)
        from generate_series($5::int, $6::int) as g, pools, ids,
          lateral (select (array['soap', 'soap', 'dap', 'free'])[1 + g % 4] as format) as f`,
        [pools, patients, org, authorId, offset, last],
      ),
    );
  }
  const dialect = new PgDialect();
  const sign = dialect.sqlToQuery(drizzleSql`update progress_notes n set status = 'signed', signed_at = now(), signed_by = n.author_id,
      content_hash = ${noteHashSql("n")}, version = n.version + 1
    where n.organization_id = ${org} and n.author_id = ${authorId} and n.status = 'draft'
      and (('x' || substr(md5(n.id::text), 1, 4))::bit(16)::int % 3) <> 0`);
  await sql.transaction([
    sql`select set_config('app.scope', 'system', true)`,
    ...inserts,
    sql.query(sign.sql, sign.params),
    sql.query(
      `with pools as (select $1::jsonb as j)
      insert into note_addenda (id, organization_id, note_id, author_id, body, content_hash)
      select ${SQL_UUIDV7}, n.organization_id, n.id, n.author_id, b.body,
        encode(sha256(convert_to('{"authorId":' || to_json(n.author_id::text)::text || ',"body":' || to_json(b.body)::text
          || ',"noteId":' || to_json(n.id::text)::text || '}', 'UTF8')), 'hex')
      from progress_notes n, pools,
        lateral (select ${pick("d", "('x' || substr(md5(n.id::text), 5, 4))::bit(16)::int")} as body) as b
      where n.organization_id = $2::uuid and n.author_id = $3::uuid and n.status = 'signed'
        and (('x' || substr(md5(n.id::text), 9, 4))::bit(16)::int % 10) = 0`,
      [pools, org, authorId],
    ),
  ]);
  return { inserted: count, query: NOTE_QUERY };
}
