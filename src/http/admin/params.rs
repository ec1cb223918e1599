//! Query parameters, each declared once as a [`Param`]: its name, its documentation and
//! how its value is read into a typed target. The same declaration checks the request
//! (unknown names, bad values) and documents the route, so the two cannot drift apart.

use std::collections::HashMap;

use utoipa::PartialSchema;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Object, RefOr, Required, Schema};

use crate::error::ApiError;

/// How a parameter's value is read, and where it goes: the setter receives the value.
pub enum Kind<T> {
    /// A string; an empty one is refused rather than matching nothing.
    Text(fn(&mut T, String)),
    /// A string that must be one of a closed set.
    OneOf(&'static [&'static str], fn(&mut T, String)),
    /// `true` or `false`.
    Flag(fn(&mut T, bool)),
    /// An integer, such as a Unix timestamp.
    Integer(fn(&mut T, i64)),
    /// A whole number from 1 to the bound (a page size).
    Count(u64, fn(&mut T, u64)),
}

/// One query parameter read into a `T`.
pub struct Param<T> {
    pub name: &'static str,
    /// The parameter's description in the OpenAPI document.
    pub doc: &'static str,
    pub kind: Kind<T>,
}

impl<T> Param<T> {
    /// A parameter named `name`, documented as `doc`.
    pub const fn new(name: &'static str, doc: &'static str, kind: Kind<T>) -> Self {
        Self { name, doc, kind }
    }

    /// Reads `value` into `target`, or names the parameter and the problem.
    fn read(&self, value: &str, target: &mut T) -> Result<(), ApiError> {
        let invalid = |problem: &str| ApiError::invalid_param(self.name, problem);
        match self.kind {
            Kind::Text(_) | Kind::OneOf(..) if value.is_empty() => return Err(invalid("is empty")),
            Kind::Text(set) => set(target, value.to_owned()),
            Kind::OneOf(allowed, _) if !allowed.contains(&value) => {
                return Err(invalid(&format!("must be one of {}", allowed.join(", "))));
            }
            Kind::OneOf(_, set) => set(target, value.to_owned()),
            Kind::Flag(set) => match value {
                "true" => set(target, true),
                "false" => set(target, false),
                _ => return Err(invalid("must be `true` or `false`")),
            },
            Kind::Integer(set) => {
                set(
                    target,
                    value.parse().map_err(|_| invalid("must be an integer"))?,
                );
            }
            Kind::Count(max, set) => {
                let count = value.parse().ok().filter(|n| (1..=max).contains(n));
                let problem = format!("must be an integer from 1 to {max}");
                set(target, count.ok_or_else(|| invalid(&problem))?);
            }
        }
        Ok(())
    }

    /// The parameter as the OpenAPI document lists it: optional, in the query; `{objects}`
    /// in its description becomes `objects`.
    pub fn parameter(&self, objects: &str) -> Parameter {
        ParameterBuilder::new()
            .name(self.name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(self.doc.replace("{objects}", objects)))
            .schema(Some(self.schema()))
            .build()
    }

    /// The value's schema, exactly what [`Self::read`] accepts: a non-empty string, one of
    /// a closed set, a boolean, an integer, or a bounded count.
    fn schema(&self) -> RefOr<Schema> {
        let object = match self.kind {
            Kind::Text(_) => ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .build(),
            Kind::OneOf(allowed, _) => ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(allowed.iter().copied()))
                .build(),
            Kind::Flag(_) => return bool::schema(),
            Kind::Integer(_) => return i64::schema(),
            Kind::Count(max, _) => match u64::schema() {
                RefOr::T(Schema::Object(object)) => return bounded(object, max).into(),
                other => return other,
            },
        };
        Schema::Object(object).into()
    }
}

/// A count's schema with its bounds.
fn bounded(mut object: Object, max: u64) -> Schema {
    object.minimum = Some(1.into());
    object.maximum = Some(max.into());
    Schema::Object(object)
}

/// A table of query parameters, one row each: `field: kind = "doc"`, or `field as "name":
/// kind = "doc"` where the parameter is not named as the field. A value is read by its
/// kind (`text`, `one_of(NAMES)`, `flag`, `integer` or `count(MAX)`, the variants of
/// [`Kind`]) into `Some` of the field, so a filter is named once.
macro_rules! query_params {
    ($($field:ident $(as $name:literal)?: $kind:ident $(($arg:expr))? = $doc:expr),+ $(,)?) => {
        &[$($crate::http::admin::params::Param::new(
            query_params!(@name $field $($name)?),
            $doc,
            query_params!(@kind $field $kind $(($arg))?),
        )),+]
    };
    (@name $field:ident) => { stringify!($field) };
    (@name $field:ident $name:literal) => { $name };
    (@kind $field:ident text) => {
        $crate::http::admin::params::Kind::Text(|target, value| target.$field = Some(value))
    };
    (@kind $field:ident one_of($names:expr)) => {
        $crate::http::admin::params::Kind::OneOf($names, |target, value| {
            target.$field = Some(value)
        })
    };
    (@kind $field:ident flag) => {
        $crate::http::admin::params::Kind::Flag(|target, value| target.$field = Some(value))
    };
    (@kind $field:ident integer) => {
        $crate::http::admin::params::Kind::Integer(|target, value| target.$field = Some(value))
    };
    (@kind $field:ident count($max:expr)) => {
        $crate::http::admin::params::Kind::Count($max, |target, value| target.$field = Some(value))
    };
}
pub(crate) use query_params;

/// The names of `params`.
pub fn names<T>(params: &[Param<T>]) -> impl Iterator<Item = &'static str> + '_ {
    params.iter().map(|param| param.name)
}

/// The query parameters of one request, checked against the names a route accepts.
pub struct Query(HashMap<String, String>);

impl Query {
    /// Refuses any parameter whose name is not in `known`.
    pub fn new<'a>(
        raw: HashMap<String, String>,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ApiError> {
        let known: Vec<&str> = known.into_iter().collect();
        match raw.keys().find(|name| !known.contains(&name.as_str())) {
            Some(unknown) => Err(ApiError::invalid_param(unknown, "unknown parameter")),
            None => Ok(Self(raw)),
        }
    }

    /// Reads `params`, in their order, into a default `T`: the first bad one is refused.
    pub fn read<T: Default>(&self, params: &[Param<T>]) -> Result<T, ApiError> {
        let mut target = T::default();
        for param in params {
            if let Some(value) = self.0.get(param.name) {
                param.read(value, &mut target)?;
            }
        }
        Ok(target)
    }
}
