//! `stripe_stores`: one marketplace store per connected account (and livemode).

use sea_orm::entity::prelude::*;

/// A seller's store.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stripe_stores")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub pk: i64,
    /// The store key: the connected account id, or `platform`.
    pub id: String,
    pub livemode: bool,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub address: Option<Json>,
    pub currency: Option<String>,
    pub description: Option<String>,
    pub website: Option<String>,
    /// `onboarding`, `active`, `restricted` or `disconnected`.
    pub status: crate::status::StoreStatus,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    pub capabilities: Option<Json>,
    pub pages: Option<Json>,
    pub payment_settings: Option<Json>,
    /// The pages and payment settings wait for a rebuild: a change they show was applied
    /// since they were built (the store's actor rebuilds them shortly).
    pub pages_stale: bool,
    /// Version guard: the account's version (see DESIGN.md, "Ordering and duplicates").
    pub version: i64,
    /// Tie-break of the event that set `version`.
    pub version_event: Option<String>,
    /// `business_profile.support_email`, shown on the Contact page.
    pub support_email: Option<String>,
    /// `requirements.disabled_reason`: set when Stripe restricted the account.
    pub disabled_reason: Option<String>,
    /// The seller disconnected the platform (`account.application.deauthorized`).
    pub disconnected: bool,
    /// Version guard of the authorization state, apart from the account fields.
    pub connection_version: i64,
    pub connection_event: Option<String>,
    /// The account's `created` at Stripe (Unix seconds); `None` until an account event
    /// carried it.
    pub account_created: Option<i64>,
    /// The shop's readable address (`/shop/{slug}`), from the store's name: assigned once,
    /// when the store first has a name, and kept through renames.
    pub slug: Option<String>,
    /// When the service first saw the store.
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
