//! Summaries kept up to date by the database itself: per-store counts of products,
//! customers and orders (`marketplace_store_counts`), and what each customer paid per
//! currency (`marketplace_customer_totals`).
//!
//! Reading them used to mean counting rows on every read, which grows with the store.
//! Triggers keep them instead, in the transaction that changes the rows they summarize, so
//! they are exact whichever code path writes the rows and in whatever order events arrive:
//! each row *contributes* to one summary row, and every insert, update or delete takes the
//! old contribution away and adds the new one. Updates that cannot move a contribution do
//! not fire (the trigger's `WHEN`).
//!
//! The same definitions ([`SUMMARIES`]) yield the triggers of both backends and the recount
//! ([`recount`]) that fills the tables here and after a bulk load.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too (sea-orm wraps only PostgreSQL's by default): the
    /// tables, the triggers and the recount land together or not at all.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for table in TABLES {
            db.execute_unprepared(table).await?;
        }
        // Triggers first, then the recount, in one transaction: on PostgreSQL creating a
        // trigger blocks writes to its table until the commit, and SQLite has one writer,
        // so no write falls between the recount and the triggers.
        for summary in SUMMARIES {
            for statement in summary.triggers(backend) {
                db.execute_unprepared(&statement).await?;
            }
        }
        recount(db).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for summary in SUMMARIES {
            for statement in summary.drop_triggers(backend) {
                db.execute_unprepared(&statement).await?;
            }
        }
        for table in ["marketplace_customer_totals", "marketplace_store_counts"] {
            db.execute_unprepared(&format!("DROP TABLE {table}"))
                .await?;
        }
        Ok(())
    }
}

const TABLES: [&str; 2] = [
    "CREATE TABLE marketplace_store_counts (\
        store_key TEXT NOT NULL, livemode BOOLEAN NOT NULL, \
        products BIGINT NOT NULL DEFAULT 0, customers BIGINT NOT NULL DEFAULT 0, \
        orders BIGINT NOT NULL DEFAULT 0, \
        PRIMARY KEY (store_key, livemode))",
    // `currency` is '' for paid orders whose currency is not known: they are counted, but
    // add to no total.
    "CREATE TABLE marketplace_customer_totals (\
        source_store TEXT NOT NULL, livemode BOOLEAN NOT NULL, customer TEXT NOT NULL, \
        currency TEXT NOT NULL, paid_orders BIGINT NOT NULL DEFAULT 0, \
        kept BIGINT NOT NULL DEFAULT 0, \
        PRIMARY KEY (source_store, livemode, customer, currency))",
];

/// Empties the summary tables and fills them again from the rows they summarize. Run it in
/// a transaction, or on a database nothing else writes to: a write between the emptying
/// and the refill would be counted twice.
pub async fn recount(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    for table in ["marketplace_store_counts", "marketplace_customer_totals"] {
        db.execute_unprepared(&format!("DELETE FROM {table}"))
            .await?;
    }
    for summary in SUMMARIES {
        db.execute_unprepared(&summary.recount()).await?;
    }
    Ok(())
}

/// One kind of contribution: the rows of `source` for which `applies` holds add `values`
/// to the row of `target` named by `key`. Expressions name the source row `r`.
pub struct Summary {
    pub name: &'static str,
    pub source: &'static str,
    pub target: &'static str,
    /// (target column, expression over `r`).
    pub key: &'static [(&'static str, &'static str)],
    pub values: &'static [(&'static str, &'static str)],
    pub applies: &'static str,
    /// The source columns a contribution depends on: an update changing none of them
    /// leaves the summary alone.
    pub depends_on: &'static [&'static str],
}

/// What the admin API reads instead of counting.
pub const SUMMARIES: [Summary; 4] = [
    Summary {
        name: "store_products",
        source: "marketplace_products",
        target: "marketplace_store_counts",
        key: &[("store_key", "r.store_key"), ("livemode", "r.livemode")],
        values: &[("products", "1")],
        applies: "r.deleted_at IS NULL",
        depends_on: &["store_key", "livemode", "deleted_at"],
    },
    Summary {
        name: "store_customers",
        source: "marketplace_customers",
        target: "marketplace_store_counts",
        key: &[("store_key", "r.store_key"), ("livemode", "r.livemode")],
        values: &[("customers", "1")],
        applies: "r.deleted_at IS NULL",
        depends_on: &["store_key", "livemode", "deleted_at"],
    },
    Summary {
        name: "store_orders",
        source: "marketplace_orders",
        target: "marketplace_store_counts",
        key: &[("store_key", "r.store_key"), ("livemode", "r.livemode")],
        values: &[("orders", "1")],
        applies: "1 = 1",
        depends_on: &["store_key", "livemode"],
    },
    // A customer's paid orders and what they kept: captured, less succeeded and pending
    // refunds and lost disputes, never below zero. Orders count where their customer
    // lives (`source_store`).
    Summary {
        name: "customer_totals",
        source: "marketplace_orders",
        target: "marketplace_customer_totals",
        key: &[
            ("source_store", "r.source_store"),
            ("livemode", "r.livemode"),
            ("customer", "r.customer"),
            ("currency", "COALESCE(r.currency, '')"),
        ],
        values: &[
            ("paid_orders", "1"),
            (
                "kept",
                "CASE WHEN r.amount_captured - r.amount_refunded - r.amount_lost > 0 \
                 THEN r.amount_captured - r.amount_refunded - r.amount_lost ELSE 0 END",
            ),
        ],
        applies: "r.customer IS NOT NULL AND r.amount_captured > 0",
        depends_on: &[
            "source_store",
            "livemode",
            "customer",
            "currency",
            "amount_captured",
            "amount_refunded",
            "amount_lost",
        ],
    },
];

/// The row operations a trigger answers, with the rows it reads and the sign each adds.
const OPERATIONS: [(&str, &[(&str, &str)]); 3] = [
    ("insert", &[("NEW", "")]),
    ("delete", &[("OLD", "-")]),
    ("update", &[("OLD", "-"), ("NEW", "")]),
];

impl Summary {
    /// The statement adding (`sign` "") or removing (`sign` "-") the contribution of `row`
    /// (`NEW`, `OLD`, or a table alias).
    fn add(&self, row: &str, sign: &str) -> String {
        let on = |expression: &str| expression.replace("r.", &format!("{row}."));
        let keys: Vec<String> = self.key.iter().map(|(_, e)| on(e)).collect();
        let values: Vec<String> = self
            .values
            .iter()
            .map(|(_, e)| format!("{sign}({})", on(e)))
            .collect();
        self.upsert(
            &format!("SELECT {}, {}", keys.join(", "), values.join(", ")),
            &format!("WHERE {}", on(self.applies)),
        )
    }

    fn recount(&self) -> String {
        let keys: Vec<&str> = self.key.iter().map(|(_, e)| *e).collect();
        let sums: Vec<String> = self
            .values
            .iter()
            .map(|(_, e)| format!("SUM({e})"))
            .collect();
        self.upsert(
            &format!(
                "SELECT {}, {} FROM {} r",
                keys.join(", "),
                sums.join(", "),
                self.source
            ),
            // SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT.
            &format!("WHERE {} GROUP BY {}", self.applies, keys.join(", ")),
        )
    }

    fn upsert(&self, select: &str, rest: &str) -> String {
        let keys: Vec<&str> = self.key.iter().map(|(c, _)| *c).collect();
        let columns: Vec<&str> = self.values.iter().map(|(c, _)| *c).collect();
        let sets: Vec<String> = columns
            .iter()
            .map(|c| format!("{c} = {}.{c} + excluded.{c}", self.target))
            .collect();
        format!(
            "INSERT INTO {} ({}, {}) {select} {rest} ON CONFLICT ({}) DO UPDATE SET {}",
            self.target,
            keys.join(", "),
            columns.join(", "),
            keys.join(", "),
            sets.join(", ")
        )
    }

    fn changed(&self) -> String {
        let changed: Vec<String> = self
            .depends_on
            .iter()
            .map(|c| format!("OLD.{c} IS DISTINCT FROM NEW.{c}"))
            .collect();
        changed.join(" OR ")
    }

    fn trigger_name(&self, operation: &str) -> String {
        format!("summary_{}_{operation}", self.name)
    }

    fn triggers(&self, backend: DbBackend) -> Vec<String> {
        let mut statements = Vec::new();
        for (operation, rows) in OPERATIONS {
            let name = self.trigger_name(operation);
            let body: Vec<String> = rows.iter().map(|(row, sign)| self.add(row, sign)).collect();
            let when = match operation {
                "update" => format!("WHEN ({})", self.changed()),
                _ => String::new(),
            };
            let event = format!(
                "AFTER {} ON {} FOR EACH ROW {when}",
                operation.to_uppercase(),
                self.source
            );
            if backend == DbBackend::Postgres {
                statements.push(format!(
                    "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN {}; RETURN NULL; END $$",
                    body.join("; ")
                ));
                statements.push(format!(
                    "CREATE TRIGGER {name} {event} EXECUTE FUNCTION {name}()"
                ));
            } else {
                statements.push(format!(
                    "CREATE TRIGGER {name} {event} BEGIN {}; END",
                    body.join("; ")
                ));
            }
        }
        statements
    }

    fn drop_triggers(&self, backend: DbBackend) -> Vec<String> {
        let mut statements = Vec::new();
        for (operation, _) in OPERATIONS {
            let name = self.trigger_name(operation);
            if backend == DbBackend::Postgres {
                statements.push(format!("DROP TRIGGER {name} ON {}", self.source));
                statements.push(format!("DROP FUNCTION {name}()"));
            } else {
                statements.push(format!("DROP TRIGGER {name}"));
            }
        }
        statements
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_takes_the_old_contribution_away_and_adds_the_new_one() {
        let statements = SUMMARIES[2].triggers(DbBackend::Sqlite);
        let update = &statements[2];
        assert!(update.starts_with(
            "CREATE TRIGGER summary_store_orders_update AFTER UPDATE ON marketplace_orders \
             FOR EACH ROW WHEN (OLD.store_key IS DISTINCT FROM NEW.store_key OR \
             OLD.livemode IS DISTINCT FROM NEW.livemode) BEGIN INSERT INTO \
             marketplace_store_counts (store_key, livemode, orders) SELECT OLD.store_key, \
             OLD.livemode, -(1) WHERE 1 = 1 ON CONFLICT"
        ));
        assert!(update.contains("SELECT NEW.store_key, NEW.livemode, (1) WHERE 1 = 1"));
    }

    #[test]
    fn a_recount_sums_the_contributions_of_every_row() {
        assert_eq!(
            SUMMARIES[0].recount(),
            "INSERT INTO marketplace_store_counts (store_key, livemode, products) \
             SELECT r.store_key, r.livemode, SUM(1) FROM marketplace_products r \
             WHERE r.deleted_at IS NULL GROUP BY r.store_key, r.livemode \
             ON CONFLICT (store_key, livemode) DO UPDATE SET \
             products = marketplace_store_counts.products + excluded.products"
        );
    }
}
