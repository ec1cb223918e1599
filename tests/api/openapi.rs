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

#[tokio::test]
async fn every_admin_route_answers_401_without_the_token() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let mut admin_routes = 0;
    for (method, template, operation) in operations(&api.doc) {
        let url = format!("{}{}", app.address, concrete(&template));
        let request = match method.as_str() {
            "get" => app.client.get(&url),
            _ => app.client.post(&url),
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = crate::schema::body_value(response).await;
        if is_admin(&operation) {
            admin_routes += 1;
            assert_eq!(status, 401, "{method} {template}");
            assert_eq!(body["error"]["code"], "unauthorized");
        } else {
            assert_ne!(status, 401, "{method} {template} is public");
        }
        api.check(&method, &concrete(&template), status, &body);
    }
    assert_eq!(admin_routes, 15, "every admin route is in the document");
}
