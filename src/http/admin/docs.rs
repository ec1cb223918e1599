//! The OpenAPI operations of a resource, built from the declarations that route and parse
//! its requests ([`AdminResource`]), so the document cannot drift from the code.

use utoipa::__dev::ComposeSchema;
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, Parameter, ParameterIn};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Required, Response, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::list::{List, PAGING};
use super::params::Param;
use super::resource::list_scope;
use super::resource::{AdminResource, Paths};

/// Adds the operations of `R`, and the schemas they answer with, to `openapi`.
pub fn add<R: AdminResource>(openapi: &mut OpenApi) {
    let Paths {
        list,
        get,
        of_store,
    } = R::PLACE.paths(&R::DOCS.objects());
    let docs = R::DOCS;
    let (name, objects) = (docs.name, docs.objects());
    let list_name = format!("List_{}", R::name());
    let list_params = |of_store: bool| -> Vec<Parameter> {
        params(list_scope::<R>(of_store), &objects)
            .chain(params(R::FILTERS, &objects))
            .chain(params(PAGING, &objects))
            .collect()
    };
    let repeats = R::PLACE.ids_repeat();
    let list_errors = |op: OperationBuilder, missing: &str| {
        let op = op.response("404", error(missing));
        if !repeats {
            return op;
        }
        let why = "An id cursor names several objects of the list (`ambiguous_id`): walk with \
                   `page`";
        op.response("409", error(why))
    };
    let page = answer(&format!("A page of {objects}"), &list_name);
    let summary = docs.list_summary();
    let list_op = operation(&objects, "list", &summary, list_params(false), page);
    let no_cursor = "A cursor names no object of the list (`resource_missing`)";
    add_get(openapi, &list, list_errors(list_op, no_cursor));
    // Ids are unique only within a store for the objects of a store: a lookup may be
    // ambiguous.
    let ambiguous = of_store.is_some();
    if let Some(of_store) = of_store {
        let summary = format!("List one store's {objects}, newest first.");
        let page = answer(&format!("A page of the store's {objects}"), &list_name);
        let store_id = path_id("The store (connected account id)");
        let parameters = [store_id].into_iter().chain(list_params(true)).collect();
        let op = operation(&objects, "list_of_store", &summary, parameters, page);
        let missing = "No such store, or a cursor names no object of the list \
                       (`resource_missing`)";
        add_get(openapi, &of_store, list_errors(op, missing));
    }
    let lookup = params(R::PLACE.lookup(), &objects);
    let parameters = [path_id(docs.id)].into_iter().chain(lookup).collect();
    let found = answer(&docs.found_summary(), &R::name());
    let summary = docs.get_summary();
    let mut op = operation(&objects, "get", &summary, parameters, found);
    op = op.response("404", missing(name));
    if ambiguous {
        let conflict = "The id exists in several stores (`ambiguous_id`)";
        op = op.response("409", error(conflict));
    }
    add_get(openapi, &get, op);
    register::<R>(openapi, list_name);
}

fn add_get(openapi: &mut OpenApi, template: &str, operation: OperationBuilder) {
    let methods = vec![HttpMethod::Get];
    let paths = &mut openapi.paths;
    paths.add_path_operation(template, methods, operation.build());
}

fn params<'a, T>(params: &'a [Param<T>], objects: &'a str) -> impl Iterator<Item = Parameter> + 'a {
    params.iter().map(move |param| param.parameter(objects))
}

/// The `id` in a route's path.
fn path_id(doc: &str) -> Parameter {
    Parameter::builder()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(doc))
        .schema(Some(String::schema()))
        .build()
}

/// An admin operation answering `200`, `400` and `401`.
fn operation(
    tag: &str,
    id: &str,
    summary: &str,
    parameters: Vec<Parameter>,
    ok: Response,
) -> OperationBuilder {
    let bad_request = "A bad parameter (named in the message)";
    Operation::builder()
        .tag(tag)
        .operation_id(Some(id))
        .summary(Some(summary))
        .parameters(Some(parameters))
        .response("200", ok)
        .response("400", error(bad_request))
        .response("401", error("No or wrong admin token"))
        .security(SecurityRequirement::new(
            "admin_token",
            Vec::<String>::new(),
        ))
}

/// A JSON answer of the schema named `schema`.
fn answer(description: &str, schema: &str) -> Response {
    let schema: RefOr<Schema> = Ref::from_schema_name(schema).into();
    Response::builder()
        .description(description)
        .content("application/json", Content::new(Some(schema)))
        .build()
}

fn error(description: &str) -> Response {
    answer(description, "ErrorBody")
}

/// `404 resource_missing` for an object of kind `name`.
fn missing(name: &str) -> Response {
    error(&format!("No such {name} (`resource_missing`)"))
}

/// Adds the schema of `T`, of the schemas it refers to, and of its list (with `T` inline,
/// as utoipa's derive composes a generic body: `ComposeSchema` is how it does so).
fn register<T: ToSchema>(openapi: &mut OpenApi, list_name: String) {
    let components = openapi.components.get_or_insert_with(Default::default);
    let mut schemas = vec![
        (T::name().into_owned(), T::schema()),
        (list_name, List::<T>::compose(vec![T::schema()])),
    ];
    T::schemas(&mut schemas);
    components.schemas.extend(schemas);
}
