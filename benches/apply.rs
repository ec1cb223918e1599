//! Micro-benchmarks of the CPU an account actor spends per event on the APPLY path, without
//! a database: the statements are built but never sent, so a regression in the domain or in
//! the statement building shows without PostgreSQL. The inputs are Stripe's published
//! events from `tests/data/stripe/`, stored as the webhook stores them
//! (`Envelope::parse` + `inbox::new_row`, the body byte for byte).
//!
//! - `apply/decode/*`: the stored payload parsed into a `serde_json::Value`, as
//!   `parse_payload` in `src/pipeline/apply.rs` does (`*/envelope`: the webhook's
//!   `Envelope::parse` of the same body, for comparison; it runs at intake, not here);
//! - `apply/domain/*`: `domain::change_of` on the `EventRef` the actor builds, then the row
//!   the store layer asks the domain for (`customers::next_row`, `catalog::next_product`,
//!   for payments `derive` of the order from its snapshots and the `without_nul` copy of
//!   each snapshot stored);
//! - `apply/statement/*`: the SQL of the row writes (the group's upsert of customers and
//!   products, `rows::customers_upsert`, of one row and of a group's 16; the insert of an
//!   order observation, every column set by `reset_all`), of the order upsert and of the
//!   inbox claim (`UPDATE ... WHERE id IN (...) RETURNING id`, as `inbox::claim_statement`
//!   builds it, for one store and for a group of eight stores), for PostgreSQL and SQLite;
//! - `apply/event/*`: one event from its stored payload to its row statement, end to end;
//! - `apply/pages/*`: `pages::build_pages` for a store of 50 and of 1,000 products, which is
//!   why an apply only marks the pages stale and the actor rebuilds them a moment later,
//!   once for all the changes of that moment.
//!
//! Run with `cargo bench --bench apply` (add `-- apply/domain` to run one group).

use std::collections::HashMap;
use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use entity::{customer, order, order_observation, price, product, store, webhook_event};
use payments::domain::orders::derive::{Payment, derive};
use payments::domain::orders::observe::Snapshot;
use payments::domain::{self, Change, EventRef, catalog, customers, orders, pages, stores};
use payments::pipeline::apply::{self, event_ref, previous_attributes};
use payments::pipeline::backlog::MAX_BATCH;
use payments::store::inbox;
use payments::stripe::envelope::Envelope;
use payments::stripe::object::without_nul;
use sea_orm::sea_query::UpdateStatement;
use sea_orm::{
    ActiveModelTrait, DbBackend, EntityTrait, IntoActiveModel, Iterable, QueryTrait, Statement,
};
use serde_json::{Value, json};

const CUSTOMER_CREATED: &[u8] = include_bytes!("../tests/data/stripe/customer.created.json");
const CUSTOMER_UPDATED: &[u8] = include_bytes!("../tests/data/stripe/customer.updated.json");
const PRODUCT_CREATED: &[u8] = include_bytes!("../tests/data/stripe/product.created.json");
const PRODUCT_UPDATED: &[u8] = include_bytes!("../tests/data/stripe/product.updated.json");
const PRICE_CREATED: &[u8] = include_bytes!("../tests/data/stripe/price.created.json");
const ACCOUNT_UPDATED: &[u8] = include_bytes!("../tests/data/stripe/account.updated.json");
const CHARGE_SUCCEEDED: &[u8] = include_bytes!("../tests/data/stripe/charge.succeeded.json");
const INTENT_SUCCEEDED: &[u8] =
    include_bytes!("../tests/data/stripe/payment_intent.succeeded.json");

/// Rows of one table written together by a group, for the upsert benchmark.
const GROUP: usize = 16;

const BACKENDS: [(&str, DbBackend); 2] = [
    ("postgres", DbBackend::Postgres),
    ("sqlite", DbBackend::Sqlite),
];

/// A stored event as its actor reads it: the inbox row and its parsed payload.
struct Stored {
    row: webhook_event::Model,
    payload: Value,
}

impl Stored {
    /// The fixture as the webhook stores it (`src/http/webhook.rs`).
    fn new(body: &[u8]) -> Self {
        let envelope = Envelope::parse(body).expect("the fixture is a valid event");
        let text = String::from_utf8(body.to_vec()).expect("the fixture is UTF-8");
        let row = inbox::new_row(&envelope, text);
        let payload = parse_payload(&row);
        Self { row, payload }
    }

    fn event(&self) -> EventRef<'_> {
        event_ref(&self.row, &self.payload)
    }

    fn previous(&self) -> Option<&Value> {
        previous_attributes(&self.payload)
    }

    fn event_type(&self) -> &str {
        &self.row.event_type
    }
}

/// The stored payload, parsed as the actor parses it.
fn parse_payload(row: &webhook_event::Model) -> Value {
    apply::parse_payload(row).expect("the stored payload is JSON")
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_721_948_800, 0).expect("a valid time")
}

fn change(stored: &Stored) -> Change {
    domain::change_of(&stored.event(), stored.previous())
        .expect("the fixture is valid")
        .expect("the service handles the fixture")
}

fn object_id(stored: &Stored) -> String {
    match change(stored) {
        Change::Customer(id) | Change::Product(id) | Change::Price(id) => id,
        other => panic!("not a keyed row: {other:?}"),
    }
}

/// The customer row after `customer.created`: what `customer.updated` finds.
fn existing_customer(created: &Stored) -> customer::Model {
    let event = created.event();
    let blank = customers::blank(&event, object_id(created), now());
    let mut row = customers::next_row(blank, &event)
        .expect("valid")
        .expect("a blank row takes any version");
    row.pk = 42;
    row
}

/// The product row after `product.created`: what `product.updated` finds.
fn existing_product(created: &Stored) -> product::Model {
    let event = created.event();
    let blank = catalog::blank_product(&event, object_id(created), now());
    let mut row = catalog::next_product(blank, &event)
        .expect("valid")
        .expect("a blank row takes any version");
    row.pk = 42;
    row
}

fn snapshots(stored: &Stored) -> Vec<Snapshot> {
    match change(stored) {
        Change::Payment(snapshots) => snapshots,
        other => panic!("not a payment: {other:?}"),
    }
}

/// The order row `src/store/payments.rs` derives from a payment's snapshots.
fn order_row(store_key: &str, livemode: bool, snapshots: &[Snapshot]) -> order::Model {
    let id = snapshots
        .iter()
        .find_map(Snapshot::own_order_key)
        .expect("a payment has an order key");
    let order = derive(&Payment {
        id: &id,
        source_store: store_key,
        snapshots,
        group_transfers: &[],
    });
    let mut row = orders::blank(store_key, livemode, &order.id, now());
    order.write(&mut row);
    row
}

/// The observation row `src/store/payments.rs` saves for a new snapshot, filed under its
/// PaymentIntent (what `order_key` finds for a charge or PaymentIntent that names one).
fn observation_row(
    store_key: &str,
    livemode: bool,
    snapshot: Snapshot,
) -> order_observation::Model {
    let order_id = snapshot.payment_intent();
    payments::store::payments::observation_row(store_key, livemode, None, snapshot, order_id, now())
}

/// The INSERT of `rows::save` for a new row (an order observation): every column set but
/// the primary key.
fn insert_statement<A>(row: <A::Entity as EntityTrait>::Model, backend: DbBackend) -> Statement
where
    A: ActiveModelTrait,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let mut row = row.into_active_model().reset_all();
    for key in <A::Entity as EntityTrait>::PrimaryKey::iter() {
        row.not_set(sea_orm::PrimaryKeyToColumn::into_column(key));
    }
    <A::Entity as EntityTrait>::insert(row).build(backend)
}

/// The write of customers of a group (`rows::upsert_customers`): one multi-row upsert.
fn customers_upsert(rows: Vec<customer::Model>, backend: DbBackend) -> Statement {
    payments::store::rows::customers_upsert(rows).build(backend)
}

/// The write of products of a group (`rows::upsert_products`).
fn products_upsert(rows: Vec<product::Model>, backend: DbBackend) -> Statement {
    payments::store::rows::products_upsert(rows).build(backend)
}

/// The upsert of `save_order` in `src/store/payments.rs`.
fn order_upsert(row: order::Model, backend: DbBackend) -> Statement {
    payments::store::payments::order_upsert(row).build(backend)
}

/// The statement of `inbox::claim`, counting the attempt (with the store's lock on
/// PostgreSQL).
fn claim(backend: DbBackend, ids: &[&str]) -> UpdateStatement {
    payments::store::inbox::claim_statement(backend, &["acct_bench"], ids, true)
}

/// The claim of a group of stores' batches (the applier's group commit), one event each.
fn group_claim(backend: DbBackend, stores: &[&str]) -> UpdateStatement {
    payments::store::inbox::claim_statement(backend, stores, stores, true)
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply/decode");
    for body in [
        CUSTOMER_UPDATED,
        PRODUCT_UPDATED,
        CHARGE_SUCCEEDED,
        INTENT_SUCCEEDED,
    ] {
        let stored = Stored::new(body);
        let name = stored.event_type().to_owned();
        let payload = stored.row.payload.clone();
        assert!(domain::not_applicable(&stored.payload).is_none());
        assert!(stored.event().object.is_object());
        group.throughput(Throughput::Bytes(payload.len() as u64));
        group.bench_function(name.as_str(), |b| {
            b.iter(|| serde_json::from_str::<Value>(black_box(&payload)))
        });
        group.bench_function(format!("{name}/envelope"), |b| {
            b.iter(|| Envelope::parse(black_box(payload.as_bytes())))
        });
    }
    group.finish();
}

/// What the domain and statement benchmarks start from: stored events, and the rows the
/// domain makes of them.
struct Fixtures {
    customer_updated: Stored,
    product_updated: Stored,
    charge: Stored,
    intent: Stored,
    /// The customer as `customer.created` leaves it, then as `customer.updated` does.
    customer: customer::Model,
    customer_next: customer::Model,
    /// The product as `product.created` leaves it, then as `product.updated` does.
    product: product::Model,
    product_next: product::Model,
    /// The snapshots of the PaymentIntent and its charge, and their store.
    payment: Vec<Snapshot>,
    store_key: String,
}

fn fixtures() -> Fixtures {
    let [
        customer_created,
        customer_updated,
        product_created,
        product_updated,
        charge,
        intent,
    ] = [
        CUSTOMER_CREATED,
        CUSTOMER_UPDATED,
        PRODUCT_CREATED,
        PRODUCT_UPDATED,
        CHARGE_SUCCEEDED,
        INTENT_SUCCEEDED,
    ]
    .map(Stored::new);
    let customer = existing_customer(&customer_created);
    let customer_next = customers::next_row(customer.clone(), &customer_updated.event())
        .expect("valid")
        .expect("customer.updated is newer than customer.created");
    let product = existing_product(&product_created);
    let product_next = catalog::next_product(product.clone(), &product_updated.event())
        .expect("valid")
        .expect("product.updated is newer than product.created");
    let mut payment = snapshots(&intent);
    payment.extend(snapshots(&charge));
    let store_key = charge.row.store_key.clone();
    Fixtures {
        customer_updated,
        product_updated,
        charge,
        intent,
        customer,
        customer_next,
        product,
        product_next,
        payment,
        store_key,
    }
}

fn domain_changes(c: &mut Criterion) {
    let Fixtures {
        customer_updated,
        product_updated,
        charge,
        intent,
        customer,
        customer_next,
        product,
        payment,
        store_key,
        ..
    } = fixtures();
    assert_ne!(customer_next, customer, "the update changes the row");
    let derived = order_row(&store_key, false, &payment);
    assert_eq!(derived.id, "pi_1PgafyB7WZ01zgkWSjxsAJo3");
    assert_eq!(
        derived.charge.as_deref(),
        Some("ch_1PgafuB7WZ01zgkWXYmPNZs8")
    );
    assert!(derived.amount_captured > 0, "the charge succeeded");
    let charge_object = charge.event().object.clone();

    let mut group = c.benchmark_group("apply/domain");
    for stored in [&customer_updated, &product_updated, &charge, &intent] {
        let event = stored.event();
        let previous = stored.previous();
        group.bench_function(format!("{}/change_of", stored.event_type()), |b| {
            b.iter(|| domain::change_of(black_box(&event), black_box(previous)))
        });
    }
    let event = customer_updated.event();
    let id = object_id(&customer_updated);
    group.bench_function("customer.updated/next_row_existing", |b| {
        b.iter_batched(
            || customer.clone(),
            |row| customers::next_row(row, black_box(&event)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("customer.updated/next_row_blank", |b| {
        b.iter(|| customers::next_row(customers::blank(&event, id.clone(), now()), &event))
    });
    let event = product_updated.event();
    group.bench_function("product.updated/next_product_existing", |b| {
        b.iter_batched(
            || product.clone(),
            |row| catalog::next_product(row, black_box(&event)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("charge.succeeded/derive_order_2_snapshots", |b| {
        b.iter(|| order_row(&store_key, false, black_box(&payment)))
    });
    group.bench_function("charge.succeeded/without_nul", |b| {
        b.iter_batched(|| charge_object.clone(), without_nul, BatchSize::SmallInput)
    });
    group.finish();
}

fn statements(c: &mut Criterion) {
    let Fixtures {
        charge,
        customer: customer_new,
        customer_next: customer,
        product_next: product,
        payment,
        store_key,
        ..
    } = fixtures();
    let order = order_row(&store_key, false, &payment);
    let observation = observation_row(&store_key, false, snapshots(&charge).remove(0));
    let one = [charge.row.id.as_str()];
    let batch_ids: Vec<String> = (0..MAX_BATCH).map(|n| format!("evt_bench{n:06}")).collect();
    let batch: Vec<&str> = batch_ids.iter().map(String::as_str).collect();

    let mut group = c.benchmark_group("apply/statement");
    for (backend_name, backend) in BACKENDS {
        let sql = customers_upsert(vec![customer_new.clone()], backend);
        assert!(sql.sql.starts_with("INSERT INTO \"marketplace_customers\""));
        assert!(!sql.sql.contains("\"pk\""), "the database assigns pk");
        assert!(
            sql.sql.contains("\"email\" = \"excluded\".\"email\""),
            "every column is replaced: {}",
            sql.sql
        );
        let sql = products_upsert(vec![product.clone()], backend);
        assert!(
            sql.sql
                .contains("\"default_price\" = \"excluded\".\"default_price\""),
            "every column is replaced"
        );
        let customers: Vec<customer::Model> = (0..GROUP)
            .map(|n| customer::Model {
                id: format!("cus_bench{n:03}"),
                ..customer.clone()
            })
            .collect();
        let sql = insert_statement::<order_observation::ActiveModel>(observation.clone(), backend);
        assert!(sql.sql.starts_with("INSERT INTO"));
        let sql = order_upsert(order.clone(), backend);
        assert!(sql.sql.contains("ON CONFLICT"));
        let sql = backend.build(&claim(backend, &batch));
        assert!(sql.sql.ends_with("RETURNING \"id\""), "{}", sql.sql);
        assert_eq!(
            sql.values.as_ref().map(|values| values.0.len()),
            // The four values set, the ids, and the lock's key on PostgreSQL.
            Some(MAX_BATCH + 4 + usize::from(backend == DbBackend::Postgres))
        );

        let name = |statement: &str| format!("{statement}/{backend_name}");
        for rows in [vec![customer.clone()], customers.clone()] {
            let statement = name(&format!("customer_upsert_{}", rows.len()));
            build_from(&mut group, &statement, &rows, |rows| {
                customers_upsert(rows, backend)
            });
        }
        build_from(
            &mut group,
            &name("product_upsert_1"),
            &vec![product.clone()],
            |rows| products_upsert(rows, backend),
        );
        build_from(
            &mut group,
            &name("observation_insert"),
            &observation,
            |row| insert_statement::<order_observation::ActiveModel>(row, backend),
        );
        build_from(&mut group, &name("order_upsert"), &order, |row| {
            order_upsert(row, backend)
        });
        group.bench_function(format!("inbox_claim_1/{backend_name}"), |b| {
            b.iter(|| backend.build(&claim(backend, black_box(&one))))
        });
        group.bench_function(format!("inbox_claim_{MAX_BATCH}/{backend_name}"), |b| {
            b.iter(|| backend.build(&claim(backend, black_box(&batch))))
        });
        let stores: Vec<String> = (0..8).map(|n| format!("acct_bench_{n}")).collect();
        let stores: Vec<&str> = stores.iter().map(String::as_str).collect();
        let sql = backend.build(&group_claim(backend, &stores));
        assert_eq!(
            sql.sql.contains("ORDER BY lock_key"),
            backend == DbBackend::Postgres,
            "several stores' locks are taken in order"
        );
        assert_eq!(
            sql.values.as_ref().map(|values| values.0.len()),
            // The four values set, the ids, and each store's key on PostgreSQL.
            Some(4 + stores.len() * (1 + usize::from(backend == DbBackend::Postgres))),
            "{}",
            sql.sql
        );
        group.bench_function(format!("inbox_claim_8_stores/{backend_name}"), |b| {
            b.iter(|| backend.build(&group_claim(backend, black_box(&stores))))
        });
    }
    group.finish();
}

/// Benchmarks building a statement from a fresh copy of `row` each time.
fn build_from<T: Clone>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    row: &T,
    build: impl Fn(T) -> Statement,
) {
    group.bench_function(name, |b| {
        b.iter_batched(|| row.clone(), &build, BatchSize::SmallInput)
    });
}

/// One `customer.updated`, from its stored payload to the upsert of its row: what the actor
/// spends on it besides the round trips.
fn whole_event(c: &mut Criterion) {
    let existing = existing_customer(&Stored::new(CUSTOMER_CREATED));
    let stored = Stored::new(CUSTOMER_UPDATED);
    let row = stored.row.clone();
    let run = |existing: customer::Model| {
        let payload = parse_payload(&row);
        assert!(domain::not_applicable(&payload).is_none());
        let event = event_ref(&row, &payload);
        let Some(Change::Customer(_)) =
            domain::change_of(&event, previous_attributes(&payload)).expect("valid")
        else {
            panic!("a customer change");
        };
        let next = customers::next_row(existing, &event)
            .expect("valid")
            .expect("newer");
        customers_upsert(vec![next], DbBackend::Postgres)
    };
    assert!(run(existing.clone()).sql.contains("ON CONFLICT"));

    let mut group = c.benchmark_group("apply/event");
    group.bench_function("customer.updated/postgres", |b| {
        b.iter_batched(|| existing.clone(), &run, BatchSize::SmallInput)
    });
    group.finish();
}

/// A store's catalogue of `count` products, each with its one-time default price, built
/// from the fixtures through the domain, in eight categories.
fn catalogue(count: usize) -> (Vec<product::Model>, HashMap<String, price::Model>) {
    let product_event = Stored::new(PRODUCT_UPDATED);
    let price_event = Stored::new(PRICE_CREATED);
    let mut products = Vec::with_capacity(count);
    let mut prices = HashMap::with_capacity(count);
    for n in 0..count {
        let product_id = format!("prod_bench{n:06}");
        let price_id = format!("price_bench{n:06}");
        let created = 1_721_940_000 + i64::try_from(n).expect("small");
        let mut object = product_event.event().object.clone();
        object["id"] = json!(product_id);
        object["name"] = json!(format!("T-shirt {n}"));
        object["default_price"] = json!(price_id);
        object["created"] = json!(created);
        object["metadata"] = json!({"category": format!("Category {}", n % 8)});
        let event = EventRef {
            object: &object,
            ..product_event.event()
        };
        let blank = catalog::blank_product(&event, product_id.clone(), now());
        products.push(
            catalog::next_product(blank, &event)
                .expect("valid")
                .expect("new"),
        );

        let mut object = price_event.event().object.clone();
        object["id"] = json!(price_id);
        object["product"] = json!(product_id);
        object["type"] = json!("one_time");
        object["recurring"] = Value::Null;
        object["unit_amount"] = json!(1000 + n % 5000);
        object["created"] = json!(created);
        let event = EventRef {
            object: &object,
            ..price_event.event()
        };
        let blank = catalog::blank_price(&event, price_id.clone(), now());
        let price = catalog::next_price(blank, &event)
            .expect("valid")
            .expect("new");
        prices.insert(price_id, price);
    }
    (products, prices)
}

/// The store after `account.updated`: named, with card payments active.
fn account_store() -> store::Model {
    let account = Stored::new(ACCOUNT_UPDATED);
    let Change::Account(change) = change(&account) else {
        panic!("an account change");
    };
    let stub = stores::stub(&account.row.store_key, false, now());
    change
        .apply(stub, &account.event())
        .expect("a stub takes any version")
}

fn page_build(c: &mut Criterion) {
    let store = account_store();
    assert!(store.name.is_some());
    let mut group = c.benchmark_group("apply/pages");
    for count in [50, 1_000] {
        let (products, prices) = catalogue(count);
        let built = pages::build_pages(&store, &products, &prices);
        let categories = built["products"]["categories"]
            .as_array()
            .expect("categories");
        assert_eq!(categories.len(), 8);
        assert_eq!(
            built["home"]["featured_products"].as_array().map(Vec::len),
            Some(pages::FEATURED_PRODUCTS)
        );
        group.bench_function(format!("{count}_products"), |b| {
            b.iter(|| pages::build_pages(black_box(&store), black_box(&products), &prices))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    decode,
    domain_changes,
    statements,
    whole_event,
    page_build
);
criterion_main!(benches);
