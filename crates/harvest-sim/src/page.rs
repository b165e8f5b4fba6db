//! Query strings and the page-based pagination envelope of the recordings:
//! `<key>[]`, `per_page`, `total_pages` (1 even when empty), `total_entries`, `next_page`,
//! `previous_page`, `page`, `links{first,next,previous,last}` with full URLs ending `&ref=…`.
//!
//! Links are built from the simulator's own base URL and the request's other parameters, so a
//! client that follows `links.next` as given stays on the same filters. No cursor mode.

use serde_json::{json, Value};

use crate::api::ApiError;

pub(crate) const MAX_PER_PAGE: usize = 2000;

/// A parsed query string: `page`/`per_page` plus every other parameter, in order.
pub(crate) struct Query {
    pub page: usize,
    pub per_page: usize,
    pub rest: Vec<(String, String)>,
}

impl Query {
    /// Errors: 422 when `per_page` is outside 1..=2000 or `page` is not a positive integer.
    pub fn parse(raw: Option<&str>) -> Result<Query, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|_| ApiError::BadRequest("Malformed query string".into()))?;
        let mut query = Query { page: 1, per_page: MAX_PER_PAGE, rest: Vec::new() };
        for (key, value) in pairs {
            match key.as_str() {
                "page" => {
                    query.page = value.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                        ApiError::Unprocessable("page must be an integer greater than 0".into())
                    })?;
                }
                "per_page" => {
                    query.per_page =
                        value.parse().ok().filter(|p| (1..=MAX_PER_PAGE).contains(p)).ok_or_else(|| {
                            ApiError::Unprocessable(format!("per_page must be between 1 and {MAX_PER_PAGE}"))
                        })?;
                }
                // A followed link carries these; they are regenerated, never echoed twice.
                "ref" | "cursor" => {}
                _ => query.rest.push((key, value)),
            }
        }
        Ok(query)
    }

    /// The last value of a filter parameter.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.rest.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn link(&self, base_url: &str, path: &str, page: usize, reference: &str) -> String {
        let mut pairs: Vec<(&str, String)> = self.rest.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        pairs.push(("page", page.to_string()));
        pairs.push(("per_page", self.per_page.to_string()));
        pairs.push(("ref", reference.to_owned()));
        let encoded = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{base_url}{path}?{encoded}")
    }

    /// Wraps `items` (already filtered and sorted) into the envelope for this page, rendering
    /// only the items on it (lists can be thousands long).
    pub fn envelope<T>(
        &self,
        key: &str,
        items: Vec<T>,
        render: impl Fn(T) -> Value,
        base_url: &str,
        path: &str,
    ) -> Value {
        let total_entries = items.len();
        let total_pages = total_entries.div_ceil(self.per_page).max(1);
        let skip = (self.page - 1).saturating_mul(self.per_page);
        let page_items: Vec<Value> = items.into_iter().skip(skip).take(self.per_page).map(render).collect();
        let next_page = (self.page < total_pages).then_some(self.page + 1);
        let previous_page = (self.page > 1).then(|| (self.page - 1).min(total_pages));
        json!({
            key: page_items,
            "per_page": self.per_page,
            "total_pages": total_pages,
            "total_entries": total_entries,
            "next_page": next_page,
            "previous_page": previous_page,
            "page": self.page,
            "links": {
                "first": self.link(base_url, path, 1, "first"),
                "next": next_page.map(|p| self.link(base_url, path, p, "next")),
                "previous": previous_page.map(|p| self.link(base_url, path, p, "previous")),
                "last": self.link(base_url, path, total_pages, "last"),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_middle_page_links_both_ways_and_keeps_the_filters() {
        let query = Query::parse(Some("user_id=7&page=2&per_page=2&ref=next")).expect("a valid query");
        let items = (0..5).map(|i| json!(i)).collect();
        let page = query.envelope("things", items, |item| item, "http://127.0.0.1:1", "/v2/things");
        assert_eq!(page["things"], json!([2, 3]), "page 2 of 2-per-page skips the first two");
        assert_eq!((page["previous_page"].clone(), page["next_page"].clone()), (json!(1), json!(3)));
        assert_eq!(
            page["links"]["next"],
            "http://127.0.0.1:1/v2/things?user_id=7&page=3&per_page=2&ref=next"
        );
        assert_eq!(
            page["links"]["last"],
            "http://127.0.0.1:1/v2/things?user_id=7&page=3&per_page=2&ref=last"
        );
    }

    #[test]
    fn per_page_above_2000_is_refused() {
        assert!(Query::parse(Some("per_page=2001")).is_err(), "the documented cap is 2000");
        assert!(Query::parse(Some("per_page=2000")).is_ok());
    }
}
