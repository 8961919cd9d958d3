//! Work: boards.

use serde_json::Value;

use crate::{Client, Error, Host};

impl Client {
    /// `GET {project}/{team}/_apis/work/boards` then each board's detail (with columns).
    pub async fn boards(&self, project: &str, team: &str) -> Result<Vec<Value>, Error> {
        let (list, _) = self
            .get(Host::Core, &[project, team, "_apis", "work", "boards"], &[])
            .await?;
        let mut boards = Vec::new();
        for summary in list
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = summary.get("id").and_then(Value::as_str) else {
                continue;
            };
            boards.push(
                self.get(
                    Host::Core,
                    &[project, team, "_apis", "work", "boards", id],
                    &[],
                )
                .await?
                .0,
            );
        }
        Ok(boards)
    }
}
