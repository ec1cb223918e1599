//! `GET /openapi.json`: every documented route exists, every admin route requires the
//! token, and the document is the one the other tests validate answers against.

use serde_json::Value;

use crate::helpers::spawn_app;
use crate::schema::Api;

/// Every (method, path template, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    operations
}

fn concrete(template: &str) -> String {
    template.replace("{id}", "x_unknown")
}

fn is_admin(operation: &Value) -> bool {
    operation["security"]
        .as_array()
        .is_some_and(|schemes| schemes.iter().any(|s| s.get("admin_token").is_some()))
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_the_auth_scheme_and_error_schema() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    assert!(api.doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let scheme = &api.doc["components"]["securitySchemes"]["admin_token"];
    assert_eq!(
        (scheme["type"].as_str(), scheme["scheme"].as_str()),
        (Some("http"), Some("bearer"))
    );
    assert!(api.doc["components"]["schemas"]["ErrorBody"].is_object());
    for path in [
        "/webhooks/stripe",
        "/health",
        "/ready",
        "/stores",
        "/stores/{id}",
        "/orders",
        "/customers/{id}",
        "/products",
        "/webhooks/stripe/logs",
        "/webhooks/stripe/events/{id}/replay",
        "/webhooks/stripe/replay",
    ] {
        assert!(api.doc["paths"][path].is_object(), "{path} documented");
    }
}

#[tokio::test]
async fn every_documented_route_exists_and_answers_as_documented() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    for (method, template, _) in operations(&api.doc) {
        let path = concrete(&template);
        let (status, body) = match method.as_str() {
            "get" => api.get(&path).await,
            "post" => api.post(&path).await,
            other => panic!("undocumented method {other}"),
        };
        assert_ne!(status, 405, "{method} {template}");
        let route_missing = status == 404 && body["error"]["code"] == "not_found";
        assert!(
            !route_missing,
            "{method} {template} is documented but not routed"
        );
    }
}

/// The routes anyone may call; every other route is an admin route.
const PUBLIC: &[(&str, &str)] = &[
    ("post", "/webhooks/stripe"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/openapi.json"),
    // Open unless METRICS_REQUIRE_TOKEN=true (tests/api/metrics.rs covers that case).
    ("get", "/metrics"),
];

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

#[tokio::test]
async fn every_admin_route_answers_401_without_the_token_or_with_a_wrong_one() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let mut admin_routes = 0;
    for (method, template, operation) in operations(&api.doc) {
        let public = PUBLIC.contains(&(method.as_str(), template.as_str()));
        assert_eq!(
            is_admin(&operation),
            !public,
            "{method} {template}: documented security does not match"
        );
        let url = format!("{}{}", app.address, concrete(&template));
        for token in [None, Some("wrong-token"), Some("")] {
            let mut request = app
                .client
                .request(method.to_uppercase().parse().unwrap(), &url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = crate::schema::body_value(response).await;
            if public {
                assert_ne!(status, 401, "{method} {template} is public");
            } else {
                assert_eq!(status, 401, "{method} {template} with {token:?}");
                assert_eq!(body["error"]["code"], "unauthorized");
            }
            api.check(&method, &concrete(&template), status, &body);
        }
        admin_routes += usize::from(!public);
    }
    assert_eq!(admin_routes, 20, "every admin route is in the document");
}

#[tokio::test]
async fn undocumented_methods_on_documented_paths_are_not_routed() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let documented: Vec<(String, String)> = operations(&api.doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let paths: std::collections::BTreeSet<&String> = documented.iter().map(|(_, p)| p).collect();
    for template in paths {
        for method in METHODS {
            if documented.contains(&(method.to_string(), template.clone())) {
                continue;
            }
            // With the token, so that admin paths say what they take (without it they
            // answer 401 and say nothing).
            let url = format!("{}{}", app.address, concrete(template));
            let response = app
                .client
                .request(method.to_uppercase().parse().unwrap(), &url)
                .bearer_auth(crate::helpers::ADMIN_TOKEN)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert_eq!(
                status, 405,
                "{method} {template} answers {status}: a route the document does not list"
            );
            let allow = response.headers()["allow"].to_str().unwrap().to_owned();
            assert!(
                !allow.contains(&method.to_uppercase()),
                "{method} {template}: {allow}"
            );
        }
    }
}

/// The source files below `dir`, its subfolders included.
fn sources(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The path templates routed in `src/http/` (`warp::path!("a" / String)` -> `/a/{}`).
fn routed_paths() -> std::collections::BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut paths = std::collections::BTreeSet::new();
    for file in sources(&dir) {
        let source = std::fs::read_to_string(file).unwrap();
        const MACRO: &str = "warp::path!(";
        for (at, _) in source.match_indices(MACRO) {
            let rest = &source[at + MACRO.len()..];
            let args = &rest[..rest.find(')').unwrap()];
            let segments: Vec<String> = args
                .split('/')
                .map(|segment| {
                    let segment = segment.trim();
                    match segment.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                        Some(literal) => literal.to_owned(),
                        None => "{}".to_owned(),
                    }
                })
                .collect();
            paths.insert(format!("/{}", segments.join("/")));
        }
        paths.extend(resource_paths(&source));
        const WITH_ID: &str = "path_with_id(\"";
        for (at, _) in source.match_indices(WITH_ID) {
            let rest = &source[at + WITH_ID.len()..];
            paths.insert(rest[..rest.find('"').unwrap()].replace("{id}", "{}"));
        }
    }
    paths
}

/// The routes of an admin resource, as its source declares them: by the object's name
/// (`Docs::of("order", ...)`) and where it lives (`Place`, in a store unless it says
/// otherwise). The router builds them by the same rule (`Place::paths`).
fn resource_paths(source: &str) -> Vec<String> {
    let Some(start) = source.find("Docs::of(") else {
        return Vec::new();
    };
    let name = source[start..].split('"').nth(1).unwrap();
    let objects = format!("/{name}s");
    let Some(place) = source.find("const PLACE: Place = Place::") else {
        let of_store = format!("/stores/{{}}{objects}");
        return vec![objects.clone(), format!("{objects}/{{}}"), of_store];
    };
    let place = &source[place..];
    let place = &place[..place.find(';').unwrap()];
    if place.contains("Place::Stores") {
        return vec![objects.clone(), format!("{objects}/{{}}")];
    }
    place
        .split('"')
        .skip(1)
        .step_by(2)
        .map(|template| template.replace("{id}", "{}"))
        .collect()
}

/// A new route cannot slip past the auth tests by missing from the document: every path
/// the code routes must be documented, and every documented path routed.
#[tokio::test]
async fn the_document_lists_exactly_the_routed_paths() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let documented: std::collections::BTreeSet<String> = operations(&api.doc)
        .into_iter()
        .map(|(_, path, _)| {
            let mut template = String::new();
            let mut in_param = false;
            for c in path.chars() {
                match c {
                    '{' => in_param = true,
                    '}' => {
                        in_param = false;
                        template.push_str("{}");
                    }
                    _ if in_param => {}
                    _ => template.push(c),
                }
            }
            template
        })
        .collect();
    let routed = routed_paths();
    assert!(
        routed.len() >= 15,
        "the source scan finds the routes: {routed:?}"
    );
    assert_eq!(routed, documented);
}

/// The document says exactly what the service accepts and answers: a string parameter is
/// non-empty (the service refuses an empty one), a closed set is an `enum` of the values
/// the service takes, every operation may answer 503, and a list names the 404 of a cursor
/// that names nothing.
#[tokio::test]
async fn the_document_states_the_values_and_answers_exactly() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let mut statuses = 0;
    for (method, path, operation) in operations(&api.doc) {
        let responses = operation["responses"].as_object().unwrap();
        assert!(responses.contains_key("503"), "{method} {path}: no 503");
        for param in operation["parameters"].as_array().into_iter().flatten() {
            let (name, schema) = (param["name"].as_str().unwrap(), &param["schema"]);
            if schema["type"] == "string" && param["in"] == "query" {
                let closed = schema["enum"].is_array();
                assert!(
                    closed || schema["minLength"] == 1,
                    "{method} {path} `{name}`: {schema}"
                );
            }
            if name == "status" {
                statuses += 1;
                let values = schema["enum"].as_array().expect("status is an enum");
                // Each value is one the service takes (an unknown one is a 400).
                for value in values {
                    let query = format!("{path}?status={}", value.as_str().unwrap());
                    if method == "get" && !path.contains('{') {
                        assert_eq!(api.get(&query).await.0, 200, "{query}");
                    }
                }
            }
        }
        if operation["operationId"]
            .as_str()
            .is_some_and(|id| id.starts_with("list"))
        {
            assert!(
                responses.contains_key("404"),
                "{method} {path}: no 404 for a cursor"
            );
        }
    }
    assert!(statuses >= 4, "the `status` filters were found");
}
