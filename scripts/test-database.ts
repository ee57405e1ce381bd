// A fresh, uniquely named PostgreSQL database for one test run, dropped afterwards.
import pg from "pg";

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function freshPostgresDatabase(serverUrl: string, prefix = "tend_test"): Promise<ScratchDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
