//! Graph (spec `graph`, the `vssps` host, preview-only): users, groups, memberships and
//! subject lookup.

use futures::Stream;
use serde_json::{Map, Value, json};

use crate::{Client, Error, Host, Paging, page::take_list};

/// The Graph has no GA api-version.
const GRAPH_API_VERSION: &str = "7.1-preview.1";
/// Descriptors per subject lookup (upstream's `MAX_SUBJECTS_PER_LOOKUP`: larger batches of
/// big groups were refused with 400).
pub const SUBJECTS_PER_LOOKUP: usize = 500;

fn version() -> (&'static str, String) {
    ("api-version", GRAPH_API_VERSION.to_owned())
}

impl Client {
    /// `GET _apis/graph/users` (continuation header), of `subject_types` (`aad,msa,...`) if
    /// given.
    pub fn graph_users(
        &self,
        subject_types: Option<String>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let mut query = vec![version()];
        query.extend(subject_types.map(|t| ("subjectTypes", t)));
        self.pages(
            Host::Graph,
            vec!["_apis".into(), "graph".into(), "users".into()],
            query,
            Paging::Continuation,
        )
    }

    /// `GET _apis/graph/groups` (continuation header).
    pub fn graph_groups(&self) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        self.pages(
            Host::Graph,
            vec!["_apis".into(), "graph".into(), "groups".into()],
            vec![version()],
            Paging::Continuation,
        )
    }

    /// `GET _apis/graph/Memberships/{descriptor}?direction=`: the direct memberships of a
    /// subject, `up` (the groups it is in) or `down` (a group's members).
    pub async fn memberships(&self, descriptor: &str, down: bool) -> Result<Vec<Value>, Error> {
        let query = [
            ("direction", if down { "Down" } else { "Up" }.to_owned()),
            version(),
        ];
        let segments = ["_apis", "graph", "Memberships", descriptor];
        let (mut body, _) = self.get(Host::Graph, &segments, &query).await?;
        take_list(&mut body, &segments)
    }

    /// `POST _apis/graph/subjectlookup` for `descriptors`, [`SUBJECTS_PER_LOOKUP`] at a time:
    /// descriptor → subject (a read, so retried like a GET).
    pub async fn lookup_subjects(
        &self,
        descriptors: &[String],
    ) -> Result<Map<String, Value>, Error> {
        let mut subjects = Map::new();
        for chunk in descriptors.chunks(SUBJECTS_PER_LOOKUP) {
            let keys: Vec<Value> = chunk.iter().map(|d| json!({ "descriptor": d })).collect();
            let mut answer = self
                .post(
                    Host::Graph,
                    &["_apis", "graph", "subjectlookup"],
                    &[version()],
                    &json!({ "lookupKeys": keys }),
                    true,
                )
                .await?;
            if let Some(Value::Object(found)) = answer.get_mut("value").map(Value::take) {
                subjects.extend(found);
            }
        }
        Ok(subjects)
    }
}
