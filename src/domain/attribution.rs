//! Which ticket a Harvest time entry belongs to.

use std::collections::{HashMap, HashSet};

use super::ticket::TicketNumber;

/// The `group_id` Tickettime writes into the external reference of every
/// entry it creates; its `id` is the ticket number.
pub const REFERENCE_GROUP: &str = "tickettime";

/// What attribution needs to know about the tickets.
#[derive(Debug, Default, Clone)]
pub struct Links {
    tickets: HashSet<TicketNumber>,
    by_project: HashMap<i64, Vec<TicketNumber>>,
}

impl Links {
    /// From `(ticket, linked project)` pairs.
    pub fn new(tickets: impl IntoIterator<Item = (TicketNumber, Option<i64>)>) -> Self {
        let mut links = Links::default();
        for (ticket, project) in tickets {
            links.tickets.insert(ticket);
            if let Some(project) = project {
                links.by_project.entry(project).or_default().push(ticket);
            }
        }
        links
    }

    pub fn is_linked(&self, project_id: i64) -> bool {
        self.by_project.contains_key(&project_id)
    }

    /// The ticket an entry belongs to:
    /// 1. the ticket its external reference names, when that ticket exists;
    /// 2. else the one ticket linked to its project;
    /// 3. else none (no ticket, or several share the project).
    pub fn attribute(
        &self,
        reference: Option<(&str, Option<&str>)>,
        project_id: i64,
    ) -> Option<TicketNumber> {
        if let Some(ticket) = reference.and_then(|(id, group)| self.referenced(id, group)) {
            return Some(ticket);
        }
        match self.by_project.get(&project_id).map(Vec::as_slice) {
            Some([only]) => Some(*only),
            _ => None,
        }
    }

    fn referenced(&self, id: &str, group: Option<&str>) -> Option<TicketNumber> {
        if group != Some(REFERENCE_GROUP) {
            return None;
        }
        id.parse::<TicketNumber>().ok().filter(|t| self.tickets.contains(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(n: i64) -> TicketNumber {
        TicketNumber::new(n).expect("positive")
    }

    #[test]
    fn an_external_reference_to_a_ticket_wins_over_the_project() {
        let links = Links::new([(t(1), Some(100)), (t(2), Some(200))]);
        assert_eq!(links.attribute(Some(("2", Some(REFERENCE_GROUP))), 100), Some(t(2)));
    }

    #[test]
    fn without_a_reference_the_only_ticket_on_the_project_gets_the_entry() {
        let links = Links::new([(t(1), Some(100)), (t(2), None)]);
        assert_eq!(links.attribute(None, 100), Some(t(1)));
        assert_eq!(links.attribute(None, 999), None, "an unlinked project attributes nothing");
    }

    #[test]
    fn a_project_linked_to_several_tickets_attributes_nothing() {
        let links = Links::new([(t(1), Some(100)), (t(2), Some(100))]);
        assert_eq!(links.attribute(None, 100), None);
    }

    #[test]
    fn references_from_other_tools_or_to_missing_tickets_fall_back_to_the_project() {
        let links = Links::new([(t(1), Some(100))]);
        assert_eq!(links.attribute(Some(("5", Some("github.com"))), 100), Some(t(1)));
        assert_eq!(links.attribute(Some(("77", Some(REFERENCE_GROUP))), 100), Some(t(1)));
        assert_eq!(links.attribute(Some(("77", Some(REFERENCE_GROUP))), 5), None);
    }
}
