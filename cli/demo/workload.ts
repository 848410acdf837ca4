/** The demo's sample shop: a schema with a few tables, and a steady write load against it. */
import type pg from 'pg';

export const DEMO_SCHEMA = `
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id bigint PRIMARY KEY, name text NOT NULL, email text, joined timestamptz NOT NULL DEFAULT now());
CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12,2) NOT NULL, status text NOT NULL,
                          items text[], placed timestamptz NOT NULL DEFAULT now());
CREATE TABLE shop.page_views (at timestamptz, path text);  -- no primary key: reported, not captured
INSERT INTO shop.customers (id, name, email) SELECT g, 'Customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, 1000) g;
INSERT INTO shop.orders (id, customer_id, total, status, items)
  SELECT g, 1 + g % 1000, (g % 997) * 1.25, 'placed', ARRAY['sku-' || g % 50, 'sku-' || g % 7] FROM generate_series(1, 5000) g;
`;

/** Writes orders, status changes and deletions until `until` (a few hundred transactions a second). */
export async function runWorkload(client: pg.Client, until: number): Promise<number> {
  let next = 100_000;
  let transactions = 0;
  while (Date.now() < until) {
    const id = next++;
    await client.query('BEGIN');
    await client.query(`INSERT INTO shop.orders (id, customer_id, total, status, items) VALUES ($1, $2, $3, 'placed', ARRAY['sku-1'])`, [id, 1 + (id % 1000), (id % 500) / 4]);
    await client.query(`UPDATE shop.orders SET status = 'shipped' WHERE id = $1`, [id - 3]);
    if (id % 5 === 0) await client.query('DELETE FROM shop.orders WHERE id = $1', [id % 5000]);
    if (id % 7 === 0) await client.query(`UPDATE shop.customers SET email = $2 WHERE id = $1`, [1 + (id % 1000), `new${id}@example.com`]);
    await client.query('INSERT INTO shop.page_views VALUES (now(), $1)', [`/orders/${id}`]);
    await client.query('COMMIT');
    transactions++;
  }
  return transactions;
}
