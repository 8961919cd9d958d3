//! Mapping throughput: the default work-item mapping (ocean-azure-devops.md §4.2, resource 6)
//! over synthetic Azure DevOps work items of about 2 KB, on 1 and 2 threads.
//! Run with `cargo bench -p mapping`; divan reports items/s (= entities/s).

#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark harness")]

use divan::{Bencher, counter::ItemsCount};
use mapping::{CompileOptions, MappingPlan, PortAppConfig};
use rayon::prelude::*;
use serde_json::{Value, json};

const DEFAULT: &str = include_str!("../../../fixtures/mappings/azure-devops-default.yaml");
const ITEMS: usize = 2000;
const WORK_ITEM: usize = 5;
const TYPES: [&str; 5] = ["Bug", "Task", "User Story", "Epic", "Issue"];

// The binary's allocator: the mapping allocates many small strings and maps.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    divan::main();
}

fn work_items() -> Vec<Value> {
    (0..ITEMS)
        .map(|i| {
            let person = json!({"displayName": format!("User {}", i % 17), "url": "https://spsprodweu5.vssps.visualstudio.com/A1/_apis/Identities/u",
                "_links": {"avatar": {"href": "https://dev.azure.com/org/_apis/GraphProfile/MemberAvatars/aad.abc"}},
                "id": format!("0c3b2{i:05}-aaaa-bbbb-cccc-1234567890ab"), "uniqueName": format!("user{}@example.com", i % 17),
                "imageUrl": "https://dev.azure.com/org/_apis/GraphProfile/MemberAvatars/aad.abc", "descriptor": "aad.NzQ3ZjE0"});
            let effort = if i % 3 == 0 { Value::Null } else { json!(5.0) };
            json!({
                "id": i, "rev": 12,
                "fields": {
                    "System.AreaPath": "Project One\\Team A", "System.TeamProject": "Project One", "System.IterationPath": "Project One\\Sprint 42",
                    "System.WorkItemType": TYPES[i % 5], "System.State": "Active",
                    "System.Reason": "Implementation started", "System.CreatedDate": "2026-10-01T08:00:00.123Z", "System.CreatedBy": person.clone(),
                    "System.ChangedDate": "2026-11-20T09:30:00.456Z", "System.ChangedBy": person, "System.CommentCount": 3,
                    "System.Title": format!("Investigate intermittent failure number {i} in the checkout flow"),
                    "System.BoardColumn": "Doing", "System.BoardColumnDone": false,
                    "Microsoft.VSTS.Common.Priority": 2, "Microsoft.VSTS.Scheduling.Effort": effort,
                    "System.Description": "<div>Customers report that the checkout flow sometimes fails with a timeout. Steps to reproduce are attached.</div>",
                    "System.Tags": "checkout; reliability"
                },
                "relations": [{"rel": "System.LinkTypes.Hierarchy-Reverse", "url": "https://dev.azure.com/org/_apis/wit/workItems/1", "attributes": {"isLocked": false, "name": "Parent"}}],
                "_links": {"self": {"href": "https://dev.azure.com/org/_apis/wit/workItems/1"}, "html": {"href": "https://dev.azure.com/org/web/wi.aspx?id=1"}},
                "url": format!("https://dev.azure.com/org/5a1c2b3d-0000-4000-8000-000000000001/_apis/wit/workItems/{i}"),
                "__projectId": "5a1c2b3d-0000-4000-8000-000000000001",
                "__project": {"id": "5a1c2b3d-0000-4000-8000-000000000001", "name": "Project One", "url": "https://dev.azure.com/org/_apis/projects/5a1c", "state": "wellFormed", "revision": 11, "visibility": "private"}
            })
        })
        .collect()
}

fn plan() -> MappingPlan {
    MappingPlan::compile(
        &PortAppConfig::from_yaml(DEFAULT).unwrap(),
        &CompileOptions::default(),
    )
    .unwrap()
}

#[divan::bench]
fn one_thread(bencher: Bencher<'_, '_>) {
    let (plan, items) = (plan(), work_items());
    let resource = &plan.resources()[WORK_ITEM];
    bencher.counter(ItemsCount::new(ITEMS)).bench(|| {
        items
            .iter()
            .map(|raw| resource.map_item(raw).unwrap().passed.len())
            .sum::<usize>()
    });
}

#[divan::bench]
fn two_threads(bencher: Bencher<'_, '_>) {
    let (plan, items) = (plan(), work_items());
    let resource = &plan.resources()[WORK_ITEM];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    bencher.counter(ItemsCount::new(ITEMS)).bench(|| {
        pool.install(|| {
            items
                .par_chunks(100)
                .map(|chunk| {
                    chunk
                        .iter()
                        .map(|raw| resource.map_item(raw).unwrap().passed.len())
                        .sum::<usize>()
                })
                .sum::<usize>()
        })
    });
}

/// Reference: converting the raw item to jaq's value alone (part of every `map_item`).
#[divan::bench]
fn convert_only(bencher: Bencher<'_, '_>) {
    let items = work_items();
    bencher.counter(ItemsCount::new(ITEMS)).bench(|| {
        for raw in &items {
            std::hint::black_box(mapping::to_val(raw));
        }
    });
}
