//! Pages whose items are still the API's JSON text (`ocean::JsonItems`, issue 18): mapped like
//! decoded ones, and an item that cannot be decoded fails its resource without deleting.

use serde_json::{Value, json};

use super::{Harness, MAPPING, projects, repos};

/// A page of `items` as JSON text, with `extra` (raw JSON) appended to the list.
fn text_page(items: &[Value], extra: Option<&str>) -> Vec<Value> {
    let mut list: Vec<String> = items.iter().map(Value::to_string).collect();
    list.extend(extra.map(str::to_owned));
    vec![
        json!({"__json": format!(r#"{{"count": {}, "value": [{}]}}"#, list.len(), list.join(","))}),
    ]
}

#[tokio::test]
async fn text_items_are_mapped_and_an_undecodable_one_fails_the_kind_without_deleting() {
    let h = Harness::new(MAPPING).await;
    h.script.set("project", vec![Some(projects(&["p1"]))]);
    h.script.set(
        "repository",
        vec![Some(text_page(&repos(&["r1", "r2", "r3"], "p1"), None))],
    );
    h.script.set("work-item", vec![]);
    let report = h.run().await;
    assert!(report.succeeded(), "{report}");
    assert_eq!(report.resources[1].upserted, 3);
    let url_of_r1 = |h: &Harness| {
        let r1 = h.env.sim.state.entity("azureDevopsRepository", "r1");
        r1.unwrap()["properties"]["url"].clone()
    };
    assert_eq!(url_of_r1(&h), json!("https://example.com/r1"));

    // r2 and r3 are gone from the list, which also holds an item nested too deeply for a
    // JSON value (valid JSON: the list itself is read).
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let mut moved = repos(&["r1"], "p1");
    moved[0]["url"] = json!("https://example.com/moved");
    h.script
        .set("repository", vec![Some(text_page(&moved, Some(&deep)))]);
    let report = h.run().await;
    assert!(!report.succeeded());
    let failure = report.resources[1].failure.as_deref().unwrap();
    assert!(
        failure.contains("item 1 of a page could not be decoded"),
        "{failure}"
    );
    assert_eq!(
        url_of_r1(&h),
        json!("https://example.com/moved"),
        "what was read is written"
    );
    assert!(
        h.has("azureDevopsRepository", "r2") && h.has("azureDevopsRepository", "r3"),
        "nothing of the failed kind is deleted"
    );
}
