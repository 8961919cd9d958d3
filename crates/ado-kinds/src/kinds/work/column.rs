//! `column`: derived from boards without extra calls: one item per (work item type, state) pair
//! of each column's `stateMappings`, with `__board`, `__stateType` and `__stateName` (as
//! upstream): one page per board, `__board` shared by its columns. A team whose boards could
//! not be read is a skipped part here too.

use ado_client::Error;
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, per_project, shared};

/// Streams one page of columns per board.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    per_project(source, |source, project| async move {
        let boards = source.boards(&project).await?;
        let mut pages: Vec<Page> = boards.skipped.iter().cloned().map(Page::skipping).collect();
        for board in &boards.boards {
            let mut columns = Vec::new();
            for column in board["columns"].as_array().into_iter().flatten() {
                for (state_type, state) in column["stateMappings"].as_object().into_iter().flatten()
                {
                    let mut item = column.clone();
                    item["__stateType"] = Value::String(state_type.clone());
                    item["__stateName"] = state.clone();
                    columns.push(item);
                }
            }
            pages.push(Page::sharing(columns, shared("__board", board.clone())));
        }
        Ok(pages)
    })
}
