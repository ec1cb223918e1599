//! `GET /stores` and `GET /stores/{id}`. The store's own lists
//! (`/stores/{id}/products`, `/customers`, `/orders`) are those of their objects.

use entity::status::StoreStatus;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::list::List;
use super::params::{Param, query_params};
use super::resource::{AdminResource, Db, Docs, ListOf, Place, rows_as_objects};
use crate::domain::stores;
use crate::error::ApiError;
use crate::store::admin::stores::{self as query, Counts, StoreFilter, StoreWithCounts};
use crate::store::admin::{Lookup, PageRequest};

impl AdminResource for Store {
    const FILTERS: &[Param<StoreFilter>] = query_params! {
        status: one_of(StoreStatus::NAMES) = "`onboarding`, `active`, `restricted` or \
            `disconnected`.",
    };
    type Filter = StoreFilter;
    const DOCS: Docs = Docs::of(
        "store",
        "The connected account id (`acct_...`) or `platform`",
    )
    .get("Retrieve a store with its pages, payment settings, status and counts.")
    .found("The store (the live one unless `livemode=false`)");
    const PLACE: Place = Place::Stores;

    rows_as_objects!(query);
}

/// A seller's store: one per connected account and mode.
#[derive(Serialize, ToSchema)]
pub struct Store {
    /// The connected account id (`acct_...`), or `platform`.
    pub id: String,
    /// Always `store`.
    pub object: String,
    pub livemode: bool,
    pub name: Option<String>,
    /// The storefront's readable address, `/shop/{slug}`: from the name, assigned once
    /// the store has one and kept through renames; `null` before.
    pub slug: Option<String>,
    pub email: Option<String>,
    pub support_email: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub address: Option<Value>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub website: Option<String>,
    /// `onboarding`, `active`, `restricted` or `disconnected`.
    pub status: String,
    /// Whether the store can take payments: Stripe's `charges_enabled`, reported `false`
    /// while the seller is disconnected (the platform can no longer charge for it).
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    /// Why Stripe restricted the account, if it did.
    pub disabled_reason: Option<String>,
    /// Home, Products, About and Contact, rebuilt whenever the store or its catalogue
    /// changes (`PAGES_REBUILD_DELAY_MS` after the change, once for every change of that
    /// moment).
    pub pages: Option<Value>,
    pub payment_settings: Option<Value>,
    /// A change the pages and payment settings show was applied, and their rebuild is
    /// due: they are about to change.
    pub pages_stale: bool,
    pub counts: StoreCounts,
    /// When the service first saw the account (Unix seconds).
    pub created: i64,
    /// When the connected account was created at Stripe (its `created`, Unix seconds);
    /// `null` until an account event carried it.
    pub account_created: Option<i64>,
    /// When the service last changed the store (Unix seconds).
    pub updated_at: i64,
}

/// How many products and customers (deleted ones left out) and orders a store has.
#[derive(Serialize, ToSchema)]
pub struct StoreCounts {
    pub products: i64,
    pub customers: i64,
    pub orders: i64,
}

impl From<StoreWithCounts> for Store {
    fn from(StoreWithCounts { store, counts }: StoreWithCounts) -> Self {
        let Counts {
            products,
            customers,
            orders,
        } = counts;
        let charges_enabled = stores::payments_enabled(&store);
        Self {
            object: "store".to_owned(),
            livemode: store.livemode,
            name: store.name,
            slug: store.slug,
            email: store.email,
            support_email: store.support_email,
            phone: store.phone,
            country: store.country,
            address: store.address,
            currency: store.currency,
            description: store.description,
            website: store.website,
            status: store.status.to_string(),
            charges_enabled,
            payouts_enabled: store.payouts_enabled,
            details_submitted: store.details_submitted,
            disabled_reason: store.disabled_reason,
            pages: store.pages,
            payment_settings: store.payment_settings,
            pages_stale: store.pages_stale,
            counts: StoreCounts {
                products,
                customers,
                orders,
            },
            created: store.created_at.timestamp(),
            account_created: store.account_created,
            updated_at: store.updated_at.timestamp(),
            id: store.id,
        }
    }
}
